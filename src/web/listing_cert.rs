//! Review stage, on the web: the certificate section of a listing's page.
//! In: the finding's detail (the certificate it matched or the first one
//! the listing cites) and the certificate as stored; out: the certificate's
//! fields, whether it is missing from the database, and the listing's
//! brand and model compared with the certificate, differences marked.

use super::AppState;
use super::error::AppError;
use super::views::{CompareRowView, Field, SegmentView, local_time};
use crate::review::compare::{self, Segment};
use crate::store::{FindingDetail, StoredCert};

/// The certificate a listing page shows.
pub(crate) struct CertSection {
    /// The matched number, or the first one cited; empty when none.
    pub cert_no: String,
    /// The certificate as stored, when the database has it.
    pub stored: Option<StoredCert>,
}

impl CertSection {
    /// The certificate of the finding `d`, read from the store.
    pub async fn load(state: &AppState, d: &FindingDetail) -> Result<CertSection, AppError> {
        let cert_no = d
            .finding
            .as_ref()
            .and_then(|f| {
                f.matched_cert
                    .clone()
                    .or_else(|| f.cert_numbers.first().cloned())
            })
            .unwrap_or_default();
        let stored = if cert_no.is_empty() {
            None
        } else {
            state.store.certificate(&cert_no).await?
        };
        Ok(CertSection { cert_no, stored })
    }

    /// A number is cited but the database does not know it.
    pub fn missing(&self) -> bool {
        !self.cert_no.is_empty() && self.stored.is_none()
    }

    /// The listing's brand and model (as recognised, else as listed)
    /// against the certificate, as valid on `as_of`.
    pub fn compare_rows(
        &self,
        state: &AppState,
        d: &FindingDetail,
        as_of: chrono::NaiveDate,
    ) -> Vec<CompareRowView> {
        let l = &d.listing.listing;
        let (brand, model) = match &d.finding {
            Some(f) => (
                f.brand.clone().or(l.brand.clone()),
                f.model.clone().or(l.model.clone()),
            ),
            None => (l.brand.clone(), l.model.clone()),
        };
        let Some(s) = &self.stored else {
            return Vec::new();
        };
        compare::compare(
            brand.as_deref(),
            model.as_deref(),
            &s.cert,
            &state.brands,
            as_of,
        )
        .rows
        .into_iter()
        .map(|r| CompareRowView {
            label: r.label,
            listing: segment_views(r.listing),
            cert: segment_views(r.cert),
            mark: r.mark.label_zh(),
            mark_class: r.mark.class(),
            note: r.note.unwrap_or_default(),
        })
        .collect()
    }

    /// The stored certificate's fields, and where the record came from.
    pub fn fields(&self, state: &AppState) -> Option<Vec<Field>> {
        self.stored.as_ref().map(|s| {
            let mut f = certificate_fields(state, s);
            f.push(Field {
                label: "数据来源",
                value: format!("{}（更新于 {}）", s.source_file, local_time(&s.updated_at)),
            });
            f
        })
    }
}

fn segment_views(segments: Vec<Segment>) -> Vec<SegmentView> {
    segments
        .into_iter()
        .map(|s| SegmentView {
            text: s.text,
            differs: s.differs,
        })
        .collect()
}

/// What the certificate says, status changes and issuer when known.
fn certificate_fields(state: &AppState, s: &StoredCert) -> Vec<Field> {
    let c = &s.cert;
    let field = |label, value| Field { label, value };
    let mut f = vec![
        field("证书编号", c.cert_no.clone()),
        field("产品名称", c.product_name.clone()),
        field("产品类别", state.category_label(c.category_code.as_deref())),
        field("申请人", c.applicant.clone()),
        field("制造商", c.manufacturer.clone()),
        field("生产厂", c.factory.clone()),
        field("型号规格", c.models_raw.clone()),
        field("证书状态", c.status_raw.clone()),
        field("发证日期", c.issued_on.to_string()),
        field("有效期至", c.expires_on.to_string()),
    ];
    if let Some(d) = c.status_changed_on {
        f.push(field("状态变更日期", d.to_string()));
    }
    if let Some(r) = &c.status_reason {
        f.push(field("变更原因", r.clone()));
    }
    if let Some(i) = &c.issuer {
        f.push(field("发证机构", i.clone()));
    }
    f
}
