//! Product types of the demo marketplace: which certificates they are built
//! from, the words their titles use, their category path and price range,
//! and the seed keywords that find every listing of a group.

use super::models::max_watts;
use super::params::{self, ParamSet};
use super::vocab::{
    CARE_EXTRAS, COOKER_EXTRAS, HOME_EXTRAS, KETTLE_EXTRAS, KITCHEN_EXTRAS, SHAVER_EXTRAS,
    SOCKET_EXTRAS, STRIP_EXTRAS, SWITCH_EXTRAS, TOY_EXTRAS,
};

/// The three product groups, with their share of listings in percent.
pub(crate) const GROUPS: [&str; 3] = ["插头插座开关", "家用电器", "玩具"];
pub(crate) const GROUP_SHARES: [u32; 3] = [45, 35, 20];

/// Search keywords per product group: every listing of a group contains at
/// least one of its group's keywords in its title or category, so searching
/// them all finds every listing.
pub const SEED_KEYWORDS: &[(&str, &[&str])] = &[
    ("插头插座开关", &["插座", "排插", "转换器", "开关"]),
    (
        "家用电器",
        &[
            "电水壶",
            "电饭煲",
            "微波炉",
            "吹风机",
            "电风扇",
            "电暖器",
            "电磁炉",
            "空气炸锅",
            "吸尘器",
            "破壁机",
        ],
    ),
    ("玩具", &["玩具", "积木", "毛绒玩具", "遥控车"]),
];

pub(crate) struct ProductType {
    pub group: usize,
    /// Catalog product code (`0201`) and a word of the certificate's
    /// product name that selects this type ("" = any).
    pub code: &'static str,
    pub cert_name: &'static str,
    /// Power limit in watts telling hair dryers from shavers (0 = none);
    /// negative = at most, positive = at least.
    pub watts: i32,
    pub nouns: &'static [&'static str],
    pub extras: &'static [&'static str],
    pub category: &'static str,
    /// Price range in yuan.
    pub price: (u32, u32),
    /// Type-specific spec rows (besides [`params::COMMON`]).
    pub params: ParamSet,
}

/// (group, code, certificate name word, nouns, feature words, category,
/// price range, spec rows)
type Row = (
    usize,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static str,
    (u32, u32),
    ParamSet,
);

const fn t(r: Row) -> ProductType {
    ProductType {
        group: r.0,
        code: r.1,
        cert_name: r.2,
        watts: 0,
        nouns: r.3,
        extras: r.4,
        category: r.5,
        price: r.6,
        params: r.7,
    }
}

#[rustfmt::skip]
pub(crate) const TYPES: &[ProductType] = &[
    // 插头插座开关
    t((0, "0201", "延长线", &["插座", "排插", "插线板", "接线板", "拖线板", "插排"], STRIP_EXTRAS, "家装主材>电工电料>插座/排插", (19, 159), params::STRIP)),
    t((0, "0201", "转换器", &["转换器", "转换插头", "一转多插座", "无线转换插座"], STRIP_EXTRAS, "家装主材>电工电料>转换器/转换插头", (9, 89), params::CONVERTER)),
    t((0, "0201", "插座", &["插座面板", "墙壁插座", "五孔插座", "86型插座"], SOCKET_EXTRAS, "家装主材>电工电料>插座", (9, 89), params::SOCKET)),
    t((0, "0202", "", &["墙壁开关", "开关面板", "86型开关"], SWITCH_EXTRAS, "家装主材>电工电料>开关", (6, 69), params::SWITCH)),
    t((0, "0206", "", &["86底盒", "暗盒", "接线盒", "开关插座底盒"], &["加厚", "阻燃", "通用", "10只装", "家用", "穿线盒"], "家装主材>电工电料>开关插座底盒", (2, 29), params::BOX)),
    // 家用电器
    t((1, "0717", "液体加热器", &["电水壶", "电热水壶", "烧水壶", "养生壶"], KETTLE_EXTRAS, "厨房小电>电水壶/养生壶", (49, 399), params::KETTLE)),
    t((1, "0718", "", &["电饭煲", "电饭锅"], COOKER_EXTRAS, "厨房小电>电饭煲", (129, 1299), params::COOKER)),
    t((1, "0714", "", &["微波炉", "变频微波炉"], &["家用", "20L", "23L", "转盘", "平板", "小型", "智能", "一级能效"], "厨房小电>微波炉", (299, 1999), params::MICROWAVE)),
    ProductType { watts: 500, ..t((1, "0709", "", &["吹风机", "电吹风", "负离子吹风机"], CARE_EXTRAS, "个护健康>吹风机/剃须刀", (59, 2999), params::DRYER)) },
    ProductType { watts: -500, ..t((1, "0709", "", &["电动剃须刀", "剃须刀", "刮胡刀"], SHAVER_EXTRAS, "个护健康>吹风机/剃须刀", (99, 1499), params::SHAVER)) },
    t((1, "0702", "", &["电风扇", "落地扇", "空气循环扇", "台扇"], HOME_EXTRAS, "生活电器>电风扇", (99, 899), params::FAN)),
    t((1, "0707", "", &["取暖器", "电暖器", "暖风机", "油汀"], HOME_EXTRAS, "生活电器>取暖器/电暖器", (129, 999), params::HEATER)),
    t((1, "0711", "", &["电磁炉", "电磁灶"], KITCHEN_EXTRAS, "厨房小电>电磁炉/电陶炉", (149, 699), params::HOB)),
    t((1, "0715", "", &["电陶炉", "光波炉"], KITCHEN_EXTRAS, "厨房小电>电磁炉/电陶炉", (199, 899), params::HOB)),
    t((1, "0712", "空气炸锅", &["空气炸锅", "无油空气炸锅"], KITCHEN_EXTRAS, "厨房小电>空气炸锅/电烤箱", (199, 899), params::OVEN)),
    t((1, "0712", "", &["电烤箱", "烤箱", "家用烤箱"], KITCHEN_EXTRAS, "厨房小电>空气炸锅/电烤箱", (199, 1299), params::OVEN)),
    t((1, "0708", "", &["吸尘器", "无线吸尘器", "手持吸尘器"], &["家用", "大吸力", "小型", "宠物", "除螨", "车家两用", "强力"], "生活电器>吸尘器", (199, 3999), params::VACUUM)),
    t((1, "0713", "", &["破壁机", "豆浆机", "料理机"], KITCHEN_EXTRAS, "厨房小电>破壁机/料理机", (199, 1599), params::BLENDER)),
    // 玩具
    t((2, "2201", "自行车", &["儿童自行车", "宝宝单车", "小孩自行车"], &["12寸", "14寸", "16寸", "男孩女孩", "3-6岁", "带辅助轮"], "玩具乐器>童车/推车", (299, 1299), params::VEHICLE)),
    t((2, "2201", "三轮车", &["儿童三轮车", "脚踏三轮车", "宝宝三轮车"], &["1-3岁", "可折叠", "带推杆", "宝宝"], "玩具乐器>童车/推车", (199, 799), params::VEHICLE)),
    t((2, "2201", "推车", &["婴儿推车", "宝宝推车", "伞车"], &["轻便", "可坐可躺", "折叠", "高景观", "一键收车"], "玩具乐器>童车/推车", (399, 2999), params::VEHICLE)),
    t((2, "2201", "学步车", &["婴儿学步车", "学步车"], &["防O型腿", "多功能", "可折叠", "宝宝"], "玩具乐器>童车/推车", (129, 399), params::VEHICLE)),
    t((2, "2202", "", &["遥控车", "遥控汽车", "遥控越野车", "电动玩具车", "遥控攀爬车"], &["儿童", "男孩", "充电", "越野", "漂移", "四驱", "高速", "生日礼物"], "玩具乐器>遥控/电动", (59, 699), params::RC)),
    t((2, "2203", "", &["积木", "拼装积木", "儿童积木", "大颗粒积木"], TOY_EXTRAS, "玩具乐器>积木拼插", (29, 999), params::BLOCKS)),
    t((2, "2204", "", &["合金车模", "合金车", "回力车"], &["仿真", "收藏", "男孩", "汽车模型", "1:36", "儿童玩具车"], "玩具乐器>合金车模", (19, 299), params::DIECAST)),
    t((2, "2205", "", &["扭扭车", "滑板车", "溜溜车"], &["儿童", "1-3岁", "万向轮", "静音轮", "防侧翻", "可坐"], "玩具乐器>扭扭车/滑板车", (99, 1299), params::VEHICLE)),
    t((2, "2206", "", &["毛绒玩具", "公仔", "布娃娃", "玩偶"], &["可爱", "安抚", "生日礼物", "女孩", "抱枕", "大号", "卡通"], "玩具乐器>毛绒布艺", (29, 299), params::PLUSH)),
    t((2, "2207", "", &["软弹枪", "泡泡机", "水弹枪", "吸盘枪"], &["儿童", "男孩", "连发", "户外", "电动", "玩具枪"], "玩具乐器>户外/泡泡/软弹", (29, 299), params::BLASTER)),
];

/// Index of the product type a certificate is built into, if any.
pub(crate) fn type_for(code: &str, name: &str, spec: &str) -> Option<usize> {
    let watts = max_watts(spec);
    TYPES.iter().position(|t| {
        t.code == code
            && name.contains(t.cert_name)
            && match t.watts {
                0 => true,
                w if w > 0 => watts >= w as u32,
                w => watts < w.unsigned_abs(),
            }
    })
}

/// Product types of a group.
pub(crate) fn types_of(group: &str) -> impl Iterator<Item = usize> + '_ {
    TYPES
        .iter()
        .enumerate()
        .filter(move |(_, t)| GROUPS[t.group] == group)
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::super::vocab::ACCESSORIES;
    use super::*;

    #[test]
    fn types_match_certificates() {
        assert_eq!(type_for("0201", "延长线插座", ""), Some(0));
        assert_eq!(type_for("0201", "单相两极带接地插座", ""), Some(2));
        let dryer = type_for("0709", "皮肤及毛发护理器具", "HD740 220V～ 50Hz 2200W");
        let shaver = type_for("0709", "皮肤及毛发护理器具", "FC5799 100-240V～ 5.4W");
        assert_eq!(TYPES[dryer.unwrap()].nouns[0], "吹风机");
        assert_eq!(TYPES[shaver.unwrap()].nouns[0], "电动剃须刀");
        assert_eq!(type_for("0717", "电压力锅", ""), None);
    }

    #[test]
    fn every_type_and_accessory_is_found_by_a_seed_keyword() {
        let seeds = |g: usize| SEED_KEYWORDS[g].1;
        for t in TYPES {
            assert!(
                seeds(t.group).iter().any(|k| t.category.contains(k)),
                "{}",
                t.category
            );
        }
        for (g, title, cat, _) in ACCESSORIES {
            assert!(
                seeds(*g)
                    .iter()
                    .any(|k| title.contains(k) || cat.contains(k)),
                "{title}"
            );
        }
    }
}
