//! Scope: is a listing a product of the CCC catalog? In: what the catalog
//! reads in the title, category path, spec table and description, the
//! certificate numbers it cites, and what the certificate database says of
//! its brand and model ([`Signals`]). Out: a [`ScopeCall`]: in scope (with
//! the product code when known, and whether that is certain) or not, always
//! with a reason in Chinese that names the words or fields that decided.
//!
//! `not_in_scope` needs a positive reason: an accessory or look-alike word,
//! a kind of goods outside the catalog. When nothing decides either way the
//! listing is judged as a catalog product, with scope marked uncertain, so
//! that it reaches a reviewer instead of being dropped.

use crate::certdb::catalog::{CatalogEntry, TextScope};

/// What a listing's spec table says that bears on scope.
#[derive(Debug, Default, Clone)]
pub struct SpecSignals<'a> {
    /// A product-kind field (`产品类别：电风扇`) read by the catalog, with its label.
    pub product: Option<(String, TextScope<'a>)>,
    /// A certificate field filled in without a readable number (`3C证书编号：已认证`).
    pub claims_certificate: Option<String>,
    /// A child's age (`适用年龄：3-6岁`).
    pub child_age: Option<String>,
    /// A mains rating (`额定电压：220V`).
    pub mains: Option<String>,
    /// A field naming the machine the goods fit (`适用机型：美的MB-FB40`),
    /// with the catalog's reading of its value: what accessories and spare
    /// parts state, and catalog products do not.
    pub fits: Option<(String, TextScope<'a>)>,
}

/// Everything the scope rule looks at.
#[derive(Debug, Clone)]
pub struct Signals<'a> {
    pub title: TextScope<'a>,
    pub category: Option<(String, TextScope<'a>)>,
    pub spec: SpecSignals<'a>,
    pub description: TextScope<'a>,
    /// Certificate numbers the listing cites.
    pub cited: Vec<String>,
    /// The catalog product of a cited certificate found in the database.
    pub cited_entry: Option<&'a CatalogEntry>,
    /// The catalog product of a certificate of this brand covering its model.
    pub model_entry: Option<(&'a CatalogEntry, String)>,
    /// The product most of the brand's certificates are for, and the brand.
    pub brand_entry: Option<(&'a CatalogEntry, String)>,
    /// A brand of the brand table (makers of catalog products) and a model
    /// the title writes (`海尔 EC8003-MA 80升`): a product named by its
    /// model alone.
    pub brand_model: Option<(String, String)>,
    /// A model the listing states (title, model field or spec table).
    pub model: Option<String>,
    /// A word of the title that catalog products have in common (`电`, `儿童`).
    pub title_hint: Option<String>,
    /// A title-wide accessory word (`替换`, `维修`, `配件`) of a title that
    /// names no catalog product (`推车 轮子 替换`: `替换`).
    pub title_part: Option<String>,
}

/// The scope decision.
#[derive(Debug, Clone, PartialEq)]
pub enum ScopeCall<'a> {
    In {
        entry: Option<&'a CatalogEntry>,
        reason: String,
        /// False when the evidence is thin: judged, but for review.
        certain: bool,
    },
    Out {
        reason: String,
    },
}

impl ScopeCall<'_> {
    pub fn is_uncertain(&self) -> bool {
        matches!(self, ScopeCall::In { certain: false, .. })
    }
}

fn product(e: &CatalogEntry) -> String {
    format!("{}（{}）", e.name, e.code)
}

/// Decides scope from the signals, strongest first.
pub fn decide<'a>(s: &Signals<'a>) -> ScopeCall<'a> {
    let cites = (!s.cited.is_empty()).then(|| s.cited.join("、"));
    // 1. The title names an accessory or look-alike of a catalog product.
    if let TextScope::Accessory {
        entry,
        keyword,
        marker,
    } = &s.title
    {
        if let Some(n) = &cites {
            return ScopeCall::In {
                entry: s.cited_entry.or(Some(*entry)),
                reason: format!(
                    "标题含“{keyword}”，“{marker}”表明可能是配件，但商品标注了3C证书编号 {n}，声明已获强制性认证，按目录产品核对"
                ),
                certain: false,
            };
        }
        return ScopeCall::Out {
            reason: format!(
                "标题含“{keyword}”，但“{marker}”表明是{}的配件、部件或同名的非目录商品，不属于强制性认证范围",
                product(entry)
            ),
        };
    }
    let title_entry = match &s.title {
        TextScope::Product { entry, .. } => Some(*entry),
        _ => None,
    };
    let category_entry = match &s.category {
        Some((_, TextScope::Product { entry, .. })) => Some(*entry),
        _ => None,
    };
    let spec_entry = match &s.spec.product {
        Some((_, TextScope::Product { entry, .. })) => Some(*entry),
        _ => None,
    };
    // 2. A cited number claims certification, found in the database or not.
    if let Some(n) = &cites {
        let entry = s
            .cited_entry
            .or(title_entry)
            .or(category_entry)
            .or(spec_entry);
        let whence = match (s.cited_entry, entry) {
            (Some(e), _) => format!("，所引证书的产品类别为{}", product(e)),
            (None, Some(e)) => format!("，商品为{}", product(e)),
            (None, None) => String::new(),
        };
        return ScopeCall::In {
            entry,
            reason: format!("商品标注了3C证书编号 {n}，声明属于强制性认证产品{whence}"),
            certain: true,
        };
    }
    // 3. The spec table says the goods are an accessory: its product kind
    // names one (`产品类别：风扇罩`), or it names the machine the goods fit
    // (`适用机型：小米扫地机器人`). A title naming another product is that
    // product (`空调插座`, `适用机型：空调`).
    if let Some(out) = spec_accessory(s, title_entry) {
        return out;
    }
    // 4. The title names a catalog product.
    if let TextScope::Product {
        entry,
        keyword,
        rival,
        doubtful,
        accessory,
    } = &s.title
    {
        // The platform files it under accessories, and the title names an
        // accessory too; or it files it under this product's accessories
        // and the title states no model: the product word names what the
        // accessory is for (`空调 排水泵` under 空调配件). With a model and
        // no accessory word it may be a product filed there to get past the
        // platform's gate: for review. (A socket under 冰箱配件 is a socket.)
        if let Some((path, TextScope::Accessory { entry: host, .. })) = &s.category
            && (accessory.is_some() || host.same_product(entry))
        {
            match (accessory, &s.model) {
                (Some(marker), _) => {
                    return ScopeCall::Out {
                        reason: format!(
                            "标题中的“{marker}”表明是配件，平台类目“{path}”也是配件类目：是{}的配件，不属于强制性认证范围",
                            product(entry)
                        ),
                    };
                }
                (None, None) => {
                    return ScopeCall::Out {
                        reason: format!(
                            "平台类目“{path}”是{}的配件类目，标题中的“{keyword}”未带型号，说明的是配件的适用产品：按配件判定，不属于强制性认证范围",
                            product(entry)
                        ),
                    };
                }
                (None, Some(_)) => {}
            }
        }
        // The title's product and the platform's category agree: a word of
        // other goods in the title is what the product is for (`料理棒 …
        // 辅食` under 料理棒). Both the title's other goods and the category
        // outside the catalog: the product word is a pattern, a theme or a
        // use (`风扇 印花 T恤` under 服饰>T恤).
        let category_agrees = matches!(&s.category,
            Some((_, TextScope::Product { entry: c, .. })) if c.same_product(entry));
        let outside_field = match (&s.category, &s.spec.product) {
            (Some((path, TextScope::Outside { kind, .. })), _) => {
                Some((format!("平台类目“{path}”"), kind))
            }
            (_, Some((field, TextScope::Outside { kind, .. }))) => {
                Some((format!("规格表“{field}”"), kind))
            }
            _ => None,
        };
        if let (Some((kind, word)), Some((field, fkind))) = (rival, &outside_field)
            && !*doubtful
            && !category_agrees
        {
            return ScopeCall::Out {
                reason: format!(
                    "标题中的“{keyword}”指向{}，但标题中的“{word}”（{kind}）和{field}（{fkind}）都表明商品不是该产品，不属于强制性认证目录",
                    product(entry)
                ),
            };
        }
        let against = match (rival, &s.category) {
            _ if *doubtful => Some(format!(
                "“{keyword}”是否属于目录取决于标题未写明的材质、供电或用途（{}）",
                if entry.excluded.is_empty() {
                    "见目录说明"
                } else {
                    entry.excluded.as_str()
                }
            )),
            (Some(_), _) if category_agrees => None,
            (Some((kind, word)), _) => Some(format!("标题同时含非目录商品词“{word}”（{kind}）")),
            (None, Some((path, TextScope::Outside { kind, .. }))) => {
                Some(format!("平台类目“{path}”属于{kind}"))
            }
            (None, Some((path, TextScope::Accessory { .. }))) => Some(match &s.model {
                Some(m) => format!("平台类目“{path}”是配件类目，而标题写有型号“{m}”"),
                None => format!("平台类目“{path}”是配件类目"),
            }),
            _ => None,
        };
        return match against {
            None => ScopeCall::In {
                entry: Some(*entry),
                reason: format!(
                    "属于强制性认证目录：{}，依据标题中的“{keyword}”",
                    product(entry)
                ),
                certain: true,
            },
            Some(against) => ScopeCall::In {
                entry: Some(*entry),
                reason: format!(
                    "目录归属不确定：标题中的“{keyword}”指向{}，但{against}；按目录产品核对，请人工确认",
                    product(entry)
                ),
                certain: false,
            },
        };
    }
    // 5. The title names no catalog product but a part or accessory: that is
    // what is sold, and what names a product (the category path, a spec
    // field, the model) says what it is for.
    if let Some(part) = &s.title_part
        && s.spec.claims_certificate.is_none()
    {
        let of = match (&s.category, &s.spec.product, &s.model_entry) {
            (
                Some((path, TextScope::Product { entry, .. } | TextScope::Accessory { entry, .. })),
                ..,
            ) => format!("平台类目“{path}”所指{}的", product(entry)),
            (_, Some((field, TextScope::Product { entry, .. })), _) => {
                format!("规格表“{field}”所指{}的", product(entry))
            }
            (.., Some((entry, _))) => format!("{}的", product(entry)),
            _ => String::new(),
        };
        return ScopeCall::Out {
            reason: format!(
                "标题未写明目录产品，标题中的“{part}”表明商品是{of}配件、部件或耗材，不属于强制性认证范围"
            ),
        };
    }
    // 6. The platform's category or a product-kind field names one.
    if let Some((path, TextScope::Product { entry, keyword, .. })) = &s.category {
        // A title word outside the catalog that the category's word refines
        // (`压力锅` under `电压力锅`, `自行车` under `玩具自行车`) names the same
        // goods: the category says which kind.
        let certain = match &s.title {
            TextScope::Outside { word, .. } => keyword.contains(word.as_str()),
            _ => true,
        };
        return ScopeCall::In {
            entry: Some(*entry),
            reason: if certain {
                format!(
                    "属于强制性认证目录：{}，依据平台类目“{path}”中的“{keyword}”",
                    product(entry)
                )
            } else {
                format!(
                    "目录归属不确定：平台类目“{path}”指向{}，但标题所写商品不在目录中；按目录产品核对，请人工确认",
                    product(entry)
                )
            },
            certain,
        };
    }
    if let Some((label, TextScope::Product { entry, keyword, .. })) = &s.spec.product {
        return ScopeCall::In {
            entry: Some(*entry),
            reason: format!(
                "属于强制性认证目录：{}，依据规格表“{label}”中的“{keyword}”",
                product(entry)
            ),
            certain: true,
        };
    }
    // 7. The certificate database knows this brand's model.
    if let Some((entry, brand)) = &s.model_entry {
        return ScopeCall::In {
            entry: Some(*entry),
            reason: format!(
                "标题未写明目录产品，但“{brand}”的该型号见于证书库中{}的证书，按该类产品核对",
                product(entry)
            ),
            certain: true,
        };
    }
    // 8. Positive reasons for being outside the catalog. A mains rating in
    // the spec table makes a word of goods that are not electric a use or
    // a feature (`扎啤机 … 啤酒` rated 220V): for review, below.
    if let TextScope::Outside { kind, word } = &s.title
        && (s.spec.mains.is_none() || kind.contains("电器"))
    {
        return ScopeCall::Out {
            reason: format!("商品为“{word}”（{kind}），不属于强制性认证目录产品"),
        };
    }
    match &s.category {
        Some((path, TextScope::Outside { kind, .. })) => {
            return ScopeCall::Out {
                reason: format!(
                    "标题未写明目录产品，平台类目“{path}”属于{kind}，不在强制性认证目录中"
                ),
            };
        }
        Some((path, TextScope::Accessory { entry, marker, .. })) => {
            return ScopeCall::Out {
                reason: format!(
                    "平台类目“{path}”中的“{marker}”表明是{}的配件，不属于强制性认证范围",
                    product(entry)
                ),
            };
        }
        _ => {}
    }
    if let Some((label, TextScope::Outside { kind, word })) = &s.spec.product {
        return ScopeCall::Out {
            reason: format!("规格表“{label}”为“{word}”（{kind}），不属于强制性认证目录产品"),
        };
    }
    // 9. Thin evidence: judged as a catalog product, for review.
    let hint: Option<(Option<&'a CatalogEntry>, String)> =
        if let Some(v) = &s.spec.claims_certificate {
            Some((None, format!("规格表填写了3C认证信息“{v}”")))
        } else if let TextScope::Product { entry, keyword, .. } = &s.description {
            Some((
                Some(*entry),
                format!("商品描述中有“{keyword}”（{}）", product(entry)),
            ))
        } else if let Some(age) = &s.spec.child_age {
            Some((
                None,
                format!("规格表“适用年龄：{age}”表明是儿童用品，可能属于玩具或童车"),
            ))
        } else if let Some((entry, brand)) = &s.brand_entry {
            Some((
                Some(*entry),
                format!("品牌“{brand}”的证书多为{}", product(entry)),
            ))
        } else if let Some((brand, model)) = &s.brand_model {
            Some((
                None,
                format!("标题只写了品牌“{brand}”（目录产品的生产者）和型号“{model}”"),
            ))
        } else if let Some(m) = &s.spec.mains {
            Some((
                None,
                match &s.title {
                    TextScope::Outside { kind, word } => format!(
                        "标题中的“{word}”（{kind}）不用电，而规格表标有额定值“{m}”，是用电产品"
                    ),
                    _ => format!("规格表标有额定值“{m}”，是用电产品"),
                },
            ))
        } else {
            s.title_hint.as_ref().map(|h| {
                (
                    None,
                    format!("标题中的“{h}”是目录产品（用电、儿童用品、车辆、燃气等）常见的特征"),
                )
            })
        };
    match hint {
        Some((entry, why)) => ScopeCall::In {
            entry,
            reason: format!("目录归属不确定：标题和类目未写明商品品类，{why}；按目录产品核对，请人工确认"),
            certain: false,
        },
        None => ScopeCall::Out {
            reason: "标题中没有目录产品名，也没有用电、儿童用品、车辆、燃气等目录产品的特征词，类目、规格表和证书编号也未指向目录产品，判定不属于强制性认证目录".into(),
        },
    }
}

/// Out when the spec table says the goods are an accessory and the title
/// names no other catalog product: a product-kind field read as an
/// accessory, or a field naming the machine the goods fit whose value is
/// not another catalog product.
fn spec_accessory<'a>(
    s: &Signals<'a>,
    title_entry: Option<&'a CatalogEntry>,
) -> Option<ScopeCall<'a>> {
    let other_product = |host: &CatalogEntry| title_entry.is_some_and(|t| !t.same_product(host));
    if let Some((field, TextScope::Accessory { entry, marker, .. })) = &s.spec.product
        && !other_product(entry)
    {
        return Some(ScopeCall::Out {
            reason: format!(
                "规格表“{field}”中的“{marker}”表明商品是{}的配件，不属于强制性认证范围",
                product(entry)
            ),
        });
    }
    let (field, reading) = s.spec.fits.as_ref()?;
    let host = match reading {
        TextScope::Product { entry, .. } | TextScope::Accessory { entry, .. } => Some(*entry),
        _ => None,
    };
    // `插座` with `适用机型：空调`: a socket for air conditioners.
    if let (Some(h), Some(t)) = (host, title_entry)
        && !h.same_product(t)
    {
        return None;
    }
    let of = match (host, title_entry) {
        (Some(e), _) | (None, Some(e)) => format!("{}的", product(e)),
        (None, None) => String::new(),
    };
    Some(ScopeCall::Out {
        reason: format!(
            "规格表“{field}”写明了商品配用的机型：是{of}配件或耗材，不属于强制性认证范围"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(code: &str, name: &str) -> CatalogEntry {
        CatalogEntry {
            code: code.into(),
            name: name.into(),
            ..CatalogEntry::default()
        }
    }

    fn signals<'a>(title: TextScope<'a>) -> Signals<'a> {
        Signals {
            title,
            category: None,
            spec: SpecSignals::default(),
            description: TextScope::Silent,
            cited: vec![],
            cited_entry: None,
            model_entry: None,
            brand_entry: None,
            brand_model: None,
            model: None,
            title_hint: None,
            title_part: None,
        }
    }

    #[test]
    fn a_cited_number_claims_certification_even_without_catalog_words() {
        let mut s = signals(TextScope::Silent);
        s.cited = vec!["2016010201931890".into()];
        match decide(&s) {
            ScopeCall::In {
                certain, reason, ..
            } => {
                assert!(certain);
                assert!(reason.contains("2016010201931890"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn out_of_scope_needs_a_positive_reason() {
        let fan = entry("0702", "电风扇");
        let s = signals(TextScope::Accessory {
            entry: &fan,
            keyword: "风扇".into(),
            marker: "罩".into(),
        });
        assert!(matches!(decide(&s), ScopeCall::Out { reason } if reason.contains("“罩”")));
        let s = signals(TextScope::Outside {
            kind: "服装".into(),
            word: "t恤".into(),
        });
        assert!(matches!(decide(&s), ScopeCall::Out { reason } if reason.contains("服装")));
        // Nothing either way: out, and the reason says what was missing.
        let mut s = signals(TextScope::Silent);
        assert!(matches!(decide(&s), ScopeCall::Out { reason } if reason.contains("特征词")));
        // A word that catalog products share: for review, not dropped.
        s.title_hint = Some("电".into());
        let call = decide(&s);
        assert!(call.is_uncertain(), "{call:?}");
        assert!(matches!(&call, ScopeCall::In { reason, .. } if reason.contains("“电”")));
    }

    #[test]
    fn spec_fields_and_the_category_decide_when_the_title_is_silent() {
        let toy = entry("2202", "玩具");
        let mut s = signals(TextScope::Silent);
        s.spec.child_age = Some("3-6岁".into());
        match decide(&s) {
            ScopeCall::In {
                certain, reason, ..
            } => {
                assert!(!certain);
                assert!(reason.contains("适用年龄：3-6岁"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        s.category = Some((
            "玩具>遥控车".into(),
            TextScope::Product {
                entry: &toy,
                keyword: "遥控车".into(),
                rival: None,
                doubtful: false,
                accessory: None,
            },
        ));
        assert!(
            matches!(decide(&s), ScopeCall::In { certain: true, entry: Some(e), .. } if e.code == "2202")
        );
    }

    #[test]
    fn an_accessory_in_the_title_and_an_accessory_category_agree() {
        let fridge = entry("0701", "家用电冰箱和食品冷冻箱");
        let socket = entry("0201", "插头插座");
        let mut s = signals(TextScope::Product {
            entry: &fridge,
            keyword: "冰箱".into(),
            rival: None,
            doubtful: false,
            accessory: Some("底座".into()),
        });
        // Title alone: judged as the product.
        assert!(matches!(decide(&s), ScopeCall::In { certain: true, .. }));
        s.category = Some((
            "家用电器>家电配件>冰箱配件".into(),
            TextScope::Accessory {
                entry: &fridge,
                keyword: "冰箱".into(),
                marker: "配件".into(),
            },
        ));
        assert!(
            matches!(decide(&s), ScopeCall::Out { reason } if reason.contains("“底座”") && reason.contains("冰箱配件"))
        );
        // Without an accessory in the title, the product word names what
        // the accessory is for...
        if let TextScope::Product { accessory, .. } = &mut s.title {
            *accessory = None;
        }
        assert!(
            matches!(decide(&s), ScopeCall::Out { reason } if reason.contains("冰箱配件") && reason.contains("未带型号"))
        );
        // ...unless the title states a model: a product filed there to get
        // past the platform's gate is what an audit looks for.
        s.model = Some("BCD-215".into());
        let call = decide(&s);
        assert!(call.is_uncertain(), "{call:?}");
        assert!(matches!(&call, ScopeCall::In { reason, .. } if reason.contains("“BCD-215”")));
        // Another product under this one's accessories is that product,
        // for review (`冰箱 专用 插座` under 冰箱配件).
        s.model = None;
        s.title = TextScope::Product {
            entry: &socket,
            keyword: "插座".into(),
            rival: None,
            doubtful: false,
            accessory: None,
        };
        let call = decide(&s);
        assert!(call.is_uncertain(), "{call:?}");
        assert!(
            matches!(&call, ScopeCall::In { reason, .. } if reason.contains("是配件类目") && !reason.contains("型号"))
        );
    }

    #[test]
    fn a_known_brand_and_a_model_alone_go_to_review() {
        let mut s = signals(TextScope::Silent);
        s.brand_model = Some(("海尔".into(), "EC8003-MA".into()));
        let call = decide(&s);
        assert!(call.is_uncertain(), "{call:?}");
        assert!(
            matches!(&call, ScopeCall::In { reason, .. } if reason.contains("“海尔”") && reason.contains("“EC8003-MA”"))
        );
        // A word outside the catalog still decides first.
        s.title = TextScope::Outside {
            kind: "图书文具办公".into(),
            word: "订书机".into(),
        };
        assert!(matches!(decide(&s), ScopeCall::Out { .. }));
    }

    #[test]
    fn a_part_named_by_a_title_without_a_product_word_is_out() {
        let pram = entry("2201", "童车");
        let mut s = signals(TextScope::Silent);
        s.title_part = Some("替换".into());
        s.category = Some((
            "母婴>童车童床>婴儿推车".into(),
            TextScope::Product {
                entry: &pram,
                keyword: "婴儿推车".into(),
                rival: None,
                doubtful: false,
                accessory: None,
            },
        ));
        match decide(&s) {
            ScopeCall::Out { reason } => assert!(
                reason.contains("“替换”") && reason.contains("婴儿推车") && reason.contains("2201"),
                "{reason}"
            ),
            other => panic!("{other:?}"),
        }
        // A certificate claimed in the spec table still goes to review.
        s.spec.claims_certificate = Some("已认证".into());
        assert!(matches!(decide(&s), ScopeCall::In { .. }));
        // A title that names the product reads its own accessory words.
        s.spec.claims_certificate = None;
        s.title = TextScope::Product {
            entry: &pram,
            keyword: "婴儿推车".into(),
            rival: None,
            doubtful: false,
            accessory: None,
        };
        assert!(matches!(decide(&s), ScopeCall::In { certain: true, .. }));
    }

    #[test]
    fn a_mains_rating_keeps_a_title_of_goods_that_are_not_electric_for_review() {
        let mut s = signals(TextScope::Outside {
            kind: "食品饮料".into(),
            word: "啤酒".into(),
        });
        assert!(matches!(decide(&s), ScopeCall::Out { .. }));
        s.spec.mains = Some("220V~".into());
        match decide(&s) {
            ScopeCall::In {
                certain: false,
                reason,
                ..
            } => assert!(
                reason.contains("“啤酒”") && reason.contains("“220V~”"),
                "{reason}"
            ),
            other => panic!("{other:?}"),
        }
        // Electrical goods outside the catalog are rated too.
        s.title = TextScope::Outside {
            kind: "目录外的电器电子产品".into(),
            word: "洗碗机".into(),
        };
        assert!(matches!(decide(&s), ScopeCall::Out { .. }));
    }

    #[test]
    fn a_category_that_refines_the_titles_outside_word_decides() {
        let cooker = entry("0717", "液体加热器");
        let mut s = signals(TextScope::Outside {
            kind: "厨具餐具（非电）".into(),
            word: "压力锅".into(),
        });
        s.category = Some((
            "家用电器>厨房小电>电压力锅".into(),
            TextScope::Product {
                entry: &cooker,
                keyword: "电压力锅".into(),
                rival: None,
                doubtful: false,
                accessory: None,
            },
        ));
        assert!(matches!(decide(&s), ScopeCall::In { certain: true, .. }));
        // A word the category does not refine leaves it for review.
        s.title = TextScope::Outside {
            kind: "服装鞋帽".into(),
            word: "t恤".into(),
        };
        assert!(decide(&s).is_uncertain());
    }

    #[test]
    fn a_spec_table_that_names_the_machine_the_goods_fit_makes_them_an_accessory() {
        let sweeper = entry("0708", "真空吸尘器");
        let socket = entry("0201", "插头插座");
        let aircon = entry("0703", "空调器");
        let named = |e| TextScope::Product {
            entry: e,
            keyword: "扫地机器人".into(),
            rival: None,
            doubtful: false,
            accessory: None,
        };
        let mut s = signals(named(&sweeper));
        s.spec.fits = Some(("适用机型：石头T7".into(), TextScope::Silent));
        assert!(
            matches!(decide(&s), ScopeCall::Out { reason } if reason.contains("适用机型：石头T7") && reason.contains("0708"))
        );
        // A fits field naming another product leaves the title's product
        // as what is sold (a socket for air conditioners).
        s.title = named(&socket);
        s.spec.fits = Some(("适用机型：空调".into(), named(&aircon)));
        assert!(matches!(decide(&s), ScopeCall::In { certain: true, .. }));
        // A cited number still claims certification.
        s.title = named(&sweeper);
        s.spec.fits = Some(("适用机型：石头T7".into(), TextScope::Silent));
        s.cited = vec!["2021010708123456".into()];
        assert!(matches!(decide(&s), ScopeCall::In { .. }));
    }

    #[test]
    fn a_product_kind_field_that_names_an_accessory_decides() {
        let fan = entry("0702", "电风扇");
        let mut s = signals(TextScope::Product {
            entry: &fan,
            keyword: "风扇".into(),
            rival: None,
            doubtful: false,
            accessory: None,
        });
        s.spec.product = Some((
            "产品类别：风扇罩".into(),
            TextScope::Accessory {
                entry: &fan,
                keyword: "风扇".into(),
                marker: "罩".into(),
            },
        ));
        assert!(
            matches!(decide(&s), ScopeCall::Out { reason } if reason.contains("产品类别：风扇罩") && reason.contains("“罩”"))
        );
    }

    #[test]
    fn a_rival_outside_word_makes_scope_uncertain() {
        let toy = entry("2202", "玩具");
        let titled = TextScope::Product {
            entry: &toy,
            keyword: "玩具".into(),
            rival: Some(("服装".into(), "t恤".into())),
            doubtful: false,
            accessory: None,
        };
        let mut s = signals(titled.clone());
        assert!(decide(&s).is_uncertain());
        // A category of the same product settles it...
        s.category = Some(("玩具乐器>益智玩具".into(), titled));
        assert!(matches!(decide(&s), ScopeCall::In { certain: true, .. }));
        // ...and one outside the catalog, with the rival, puts it outside.
        s.category = Some((
            "服饰内衣>T恤".into(),
            TextScope::Outside {
                kind: "服装鞋帽".into(),
                word: "t恤".into(),
            },
        ));
        assert!(
            matches!(decide(&s), ScopeCall::Out { reason } if reason.contains("“t恤”") && reason.contains("服饰内衣>T恤"))
        );
        // A spec product-kind field outside the catalog counts as such a
        // category, but not against a category of the title's own product.
        s.spec.product = s
            .category
            .take()
            .map(|(_, reading)| ("产品类别：T恤".into(), reading));
        assert!(
            matches!(decide(&s), ScopeCall::Out { reason } if reason.contains("规格表“产品类别：T恤”"))
        );
        s.category = Some(("玩具乐器>益智玩具".into(), s.title.clone()));
        assert!(matches!(decide(&s), ScopeCall::In { certain: true, .. }));
    }
}
