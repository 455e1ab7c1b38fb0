//! Act stage, follow-up: after a complete scan, what became of the
//! listings under notice (removed, still online, overdue, back online) and
//! whether a removed listing came back under a new item ID from the same
//! seller or shop (a relist).

use crate::matching::brand::BrandTable;
use crate::store::{NoticeCheck, Store, StoreError, VerifyScope};
use crate::text::normalize::{model_key, name_key, strip_colour_suffix};

/// Verifies the notices in `scope` and looks for relists on its platform.
pub async fn follow_up(
    store: &Store,
    brands: &BrandTable,
    scope: VerifyScope<'_>,
) -> Result<NoticeCheck, StoreError> {
    let mut check = store.verify_notices(scope).await?;
    let platforms = match scope.platform {
        Some(p) => vec![p.to_string()],
        None => store.notice_platforms().await?,
    };
    for platform in platforms {
        let found: Vec<(i64, i64)> = store
            .relist_candidates(&platform)
            .await?
            .into_iter()
            .filter(|c| {
                same_product(
                    brands,
                    (c.old_brand.as_deref(), c.old_model.as_deref()),
                    (c.new_brand.as_deref(), c.new_model.as_deref()),
                )
            })
            .map(|c| (c.notice_id, c.new_listing))
            .collect();
        check.relisted += store.record_relists(&found, scope.scan_id).await?;
    }
    Ok(check)
}

/// Whether two listings of one seller offer the same product: the same
/// model (ignoring separators, case, width and colour suffixes; never when
/// a character differs) and the same brand (through the alias table) when
/// both name one.
pub fn same_product(
    brands: &BrandTable,
    (brand_a, model_a): (Option<&str>, Option<&str>),
    (brand_b, model_b): (Option<&str>, Option<&str>),
) -> bool {
    let key = |m: &str| model_key(strip_colour_suffix(m.trim()));
    let (Some(a), Some(b)) = (model_a.map(key), model_b.map(key)) else {
        return false;
    };
    if a.is_empty() || a != b {
        return false;
    }
    match (
        brand_a.filter(|s| !s.trim().is_empty()),
        brand_b.filter(|s| !s.trim().is_empty()),
    ) {
        (Some(x), Some(y)) => match (brands.lookup(x), brands.lookup(y)) {
            (Some(i), Some(j)) => i == j,
            _ => name_key(x) == name_key(y),
        },
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relists_need_the_same_model_and_brand() {
        let b = BrandTable::embedded();
        assert!(same_product(
            &b,
            (Some("公牛"), Some("GN-H3050")),
            (Some("BULL"), Some("gn h3050"))
        ));
        assert!(same_product(
            &b,
            (Some("公牛"), Some("GN-H3050")),
            (None, Some("GN-H3050白色"))
        ));
        assert!(!same_product(
            &b,
            (Some("公牛"), Some("GN-H3050")),
            (Some("公牛"), Some("GN-H3051"))
        ));
        assert!(!same_product(
            &b,
            (Some("公牛"), Some("GN-H3050")),
            (Some("德力西"), Some("GN-H3050"))
        ));
        assert!(!same_product(
            &b,
            (Some("公牛"), None),
            (Some("公牛"), None)
        ));
        assert!(!same_product(
            &b,
            (Some("公牛"), Some(" ")),
            (Some("公牛"), Some(""))
        ));
    }
}
