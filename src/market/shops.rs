//! The shops of the demo marketplace: every brand's own shops, distributors
//! and small shops per product group, each with a stable 6-digit id.

use super::data::Data;
use std::collections::HashMap;
use std::sync::OnceLock;

const BRAND_SHOP_SUFFIXES: &[&str] = &["官方旗舰店", "旗舰店", "专卖店", "京东自营旗舰店"];

const DISTRIBUTORS: [&[&str]; 3] = [
    &[
        "惠民电器专营店",
        "星河电器专营店",
        "鑫盛五金电料专营店",
        "万家灯火电工专营店",
    ],
    &[
        "惠民电器专营店",
        "星河电器专营店",
        "优品家电专营店",
        "悦享生活电器专营店",
    ],
    &[
        "乐童玩具专营店",
        "佳和母婴玩具专营店",
        "童趣玩具专营店",
        "贝贝乐母婴专营店",
    ],
];

const SMALL_SHOPS: [&[&str]; 3] = [
    &[
        "小王家居生活馆",
        "阿强五金电料店",
        "老李电工批发部",
        "温馨小家日用铺",
    ],
    &[
        "老李家电维修部",
        "温馨小家日用铺",
        "好物优选百货店",
        "义乌好货百货店",
    ],
    &[
        "优品玩具批发城",
        "宝贝乐园玩具店",
        "义乌好货百货店",
        "童年时光玩具铺",
    ],
];

/// Which kind of seller offers a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SellerKind {
    /// One of the brand's own shops.
    Brand,
    Distributor,
    Small,
}

pub(crate) struct Shops {
    names: Vec<String>,
    by_name: HashMap<String, usize>,
}

impl Shops {
    pub fn get() -> &'static Shops {
        static SHOPS: OnceLock<Shops> = OnceLock::new();
        SHOPS.get_or_init(Shops::build)
    }

    fn build() -> Shops {
        let mut names: Vec<String> = Vec::new();
        for b in &Data::get().brands {
            for s in BRAND_SHOP_SUFFIXES {
                names.push(format!("{}{s}", b.name));
            }
        }
        for list in DISTRIBUTORS.iter().chain(SMALL_SHOPS.iter()) {
            names.extend(list.iter().map(|s| s.to_string()));
        }
        let mut by_name = HashMap::new();
        names.retain(|n| by_name.insert(n.clone(), 0).is_none());
        for (i, n) in names.iter().enumerate() {
            by_name.insert(n.clone(), i);
        }
        Shops { names, by_name }
    }

    /// The shop name for `kind`; `pick` chooses among candidates.
    pub fn name(&self, kind: SellerKind, group: usize, brand: &str, pick: usize) -> &str {
        let list: &[&str] = match kind {
            SellerKind::Brand => {
                let name = format!("{brand}{}", BRAND_SHOP_SUFFIXES[pick % 4]);
                if let Some(&i) = self.by_name.get(&name) {
                    return &self.names[i];
                }
                DISTRIBUTORS[group]
            }
            SellerKind::Distributor => DISTRIBUTORS[group],
            SellerKind::Small => SMALL_SHOPS[group],
        };
        list[pick % list.len()]
    }

    /// The stable id of a shop name.
    pub fn id(&self, name: &str) -> String {
        let i = self.by_name.get(name).copied().unwrap_or(0);
        shop_id(i).to_string()
    }

    /// The shop name of an id.
    pub fn by_id(&self, id: &str) -> Option<&str> {
        let id: u64 = id.parse().ok()?;
        (0..self.names.len())
            .find(|&i| shop_id(i) == id)
            .map(|i| self.names[i].as_str())
    }
}

/// A permutation of 100000..999999, so ids look unrelated.
fn shop_id(i: usize) -> u64 {
    100_000 + (i as u64 * 7_919 + 104_729) % 900_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shop_ids_round_trip() {
        let shops = Shops::get();
        let name = shops.name(SellerKind::Brand, 0, "公牛", 0);
        assert_eq!(name, "公牛官方旗舰店");
        let id = shops.id(name);
        assert_eq!(id.len(), 6);
        assert_eq!(shops.by_id(&id), Some(name));
        let small = shops.name(SellerKind::Small, 2, "", 1);
        assert_eq!(shops.by_id(&shops.id(small)), Some(small));
    }
}
