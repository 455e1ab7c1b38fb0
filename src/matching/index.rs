//! The in-memory certificate index the matcher reads: by number, by model
//! key, and by brand. Built once per match run from the store.

use crate::domain::{CertStatus, Verdict};
use crate::matching::brand::BrandTable;
use crate::text::normalize::model_key;
use chrono::NaiveDate;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

pub use crate::domain::CertRecord;

/// One indexed certificate. Company names are shared between certificates.
#[derive(Debug, Clone)]
pub struct CertEntry {
    pub cert_no: Box<str>,
    pub status: CertStatus,
    pub status_changed_on: Option<NaiveDate>,
    pub status_reason: Option<Box<str>>,
    pub issued_on: NaiveDate,
    pub expires_on: NaiveDate,
    pub category_code: Option<Box<str>>,
    pub product_name: Arc<str>,
    pub applicant: Arc<str>,
    pub manufacturer: Arc<str>,
    pub models: Box<[Box<str>]>,
    pub model_keys: Box<[Box<str>]>,
    pub models_complete: bool,
    /// Brands of the alias table whose certificates the holder holds.
    pub owners: Arc<[u32]>,
}

impl CertEntry {
    /// The verdict this certificate gives on `as_of`, and the date that
    /// status began when known. A status change dated after `as_of` had not
    /// happened yet. Revocation and cancellation are final; otherwise an
    /// expiry date before `as_of` means expired whatever the status says.
    pub fn verdict_on(&self, as_of: NaiveDate) -> (Verdict, Option<NaiveDate>) {
        let status = match self.status_changed_on {
            Some(d) if d > as_of && self.status != CertStatus::Valid => CertStatus::Valid,
            _ => self.status,
        };
        match status {
            CertStatus::Revoked => (Verdict::Revoked, self.status_changed_on),
            CertStatus::Cancelled => (Verdict::Cancelled, self.status_changed_on),
            _ if self.expires_on < as_of => (Verdict::Expired, Some(self.expires_on)),
            CertStatus::Expired => (
                Verdict::Expired,
                self.status_changed_on.or(Some(self.expires_on)),
            ),
            CertStatus::Suspended => (Verdict::Suspended, self.status_changed_on),
            CertStatus::Valid => (Verdict::Compliant, None),
        }
    }

    pub fn covers_model_key(&self, key: &str) -> bool {
        self.model_keys.iter().any(|k| &**k == key)
    }
}

/// Certificates indexed for matching.
#[derive(Debug)]
pub struct CertIndex {
    certs: Vec<CertEntry>,
    by_no: HashMap<Box<str>, u32>,
    /// (hash of model key, certificate), sorted: compact for millions of models.
    model_postings: Vec<(u64, u32)>,
    hasher: RandomState,
    by_brand: Vec<Vec<u32>>,
}

impl CertIndex {
    /// Builds the index; `brands` decides which brands each holder owns.
    pub fn build(records: impl IntoIterator<Item = CertRecord>, brands: &BrandTable) -> Self {
        let mut builder = Builder::new(brands);
        for r in records {
            builder.push(r);
        }
        builder.finish()
    }

    pub fn len(&self) -> usize {
        self.certs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    pub fn get(&self, cert_no: &str) -> Option<&CertEntry> {
        self.by_no.get(cert_no).map(|&i| &self.certs[i as usize])
    }

    /// Certificates whose model list contains `key` exactly.
    pub fn by_model_key<'s>(&'s self, key: &str) -> impl Iterator<Item = &'s CertEntry> + 's {
        let h = self.hasher.hash_one(key);
        let key = key.to_string();
        let start = self.model_postings.partition_point(|&(ph, _)| ph < h);
        self.model_postings[start..]
            .iter()
            .take_while(move |&&(ph, _)| ph == h)
            .map(|&(_, i)| &self.certs[i as usize])
            .filter(move |c| c.covers_model_key(&key))
    }

    /// Certificates held by companies that own `brand`.
    pub fn by_brand(&self, brand: usize) -> impl Iterator<Item = &CertEntry> {
        self.by_brand
            .get(brand)
            .into_iter()
            .flatten()
            .map(|&i| &self.certs[i as usize])
    }

    /// Numbers in the index that differ from `cert_no` in exactly one digit:
    /// shown to reviewers as "a different certificate", never accepted.
    pub fn one_digit_away(&self, cert_no: &str) -> Vec<&CertEntry> {
        let mut out = Vec::new();
        if cert_no.len() != 16 || !cert_no.bytes().all(|b| b.is_ascii_digit()) {
            return out;
        }
        let mut buf = cert_no.as_bytes().to_vec();
        for i in 0..16 {
            let orig = buf[i];
            for d in b'0'..=b'9' {
                if d == orig {
                    continue;
                }
                buf[i] = d;
                if let Some(c) = std::str::from_utf8(&buf).ok().and_then(|s| self.get(s)) {
                    out.push(c);
                }
            }
            buf[i] = orig;
        }
        out
    }
}

/// (applicant, manufacturer): certificates of one holder share their owners.
type HolderPair = (Arc<str>, Arc<str>);

struct Builder<'a> {
    brands: &'a BrandTable,
    certs: Vec<CertEntry>,
    by_no: HashMap<Box<str>, u32>,
    postings: Vec<(u64, u32)>,
    hasher: RandomState,
    strings: HashMap<String, Arc<str>>,
    owners: HashMap<HolderPair, Arc<[u32]>>,
}

impl<'a> Builder<'a> {
    fn new(brands: &'a BrandTable) -> Self {
        Builder {
            brands,
            certs: Vec::new(),
            by_no: HashMap::new(),
            postings: Vec::new(),
            hasher: RandomState::new(),
            strings: HashMap::new(),
            owners: HashMap::new(),
        }
    }

    fn intern(&mut self, s: String) -> Arc<str> {
        if let Some(a) = self.strings.get(&s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s.as_str());
        self.strings.insert(s, a.clone());
        a
    }

    fn push(&mut self, r: CertRecord) {
        if self.by_no.contains_key(r.cert_no.as_str()) {
            return; // the store has one row per number; keep the first if not
        }
        let id = self.certs.len() as u32;
        let applicant = self.intern(r.applicant);
        let manufacturer = self.intern(r.manufacturer);
        let product_name = self.intern(r.product_name);
        let brands = self.brands;
        let owners = self
            .owners
            .entry((applicant.clone(), manufacturer.clone()))
            .or_insert_with(|| {
                let mut o: Vec<u32> = brands
                    .owners_of(&applicant)
                    .into_iter()
                    .map(|b| b as u32)
                    .collect();
                for b in brands.owners_of(&manufacturer) {
                    if !o.contains(&(b as u32)) {
                        o.push(b as u32);
                    }
                }
                o.into()
            })
            .clone();
        let mut model_keys: Vec<Box<str>> = Vec::with_capacity(r.models.len());
        for m in &r.models {
            let k = model_key(m);
            if !k.is_empty() && !model_keys.iter().any(|x| **x == *k) {
                self.postings.push((self.hasher.hash_one(k.as_str()), id));
                model_keys.push(k.into());
            }
        }
        self.by_no.insert(r.cert_no.clone().into(), id);
        self.certs.push(CertEntry {
            cert_no: r.cert_no.into(),
            status: r.status,
            status_changed_on: r.status_changed_on,
            status_reason: r.status_reason.map(Into::into),
            issued_on: r.issued_on,
            expires_on: r.expires_on,
            category_code: r.category_code.map(Into::into),
            product_name,
            applicant,
            manufacturer,
            models: r.models.into_iter().map(Into::into).collect(),
            model_keys: model_keys.into(),
            models_complete: r.models_complete,
            owners,
        });
    }

    fn finish(mut self) -> CertIndex {
        self.postings.sort_unstable();
        self.postings.dedup();
        let mut by_brand = vec![Vec::new(); self.brands.len()];
        for (i, c) in self.certs.iter().enumerate() {
            for &b in c.owners.iter() {
                by_brand[b as usize].push(i as u32);
            }
        }
        CertIndex {
            certs: self.certs,
            by_no: self.by_no,
            model_postings: self.postings,
            hasher: self.hasher,
            by_brand,
        }
    }
}
