//! Words of the demo listings: feature words per product type, accessories
//! that are out of scope, brands nobody certified, look-alike brand names
//! and marketing words.

pub(crate) const SOCKET_EXTRAS: &[&str] = &[
    "家用",
    "暗装",
    "白色",
    "一开五孔",
    "16A",
    "USB",
    "错位斜五孔",
    "大板",
    "无框",
    "钢架加厚",
];
pub(crate) const STRIP_EXTRAS: &[&str] = &[
    "带线",
    "1.8米",
    "3米",
    "5米",
    "USB",
    "Type-C快充",
    "儿童保护门",
    "独立开关",
    "家用多功能",
    "宿舍",
    "防过载",
    "新国标",
    "总控开关",
    "延长线",
];
pub(crate) const SWITCH_EXTRAS: &[&str] = &[
    "一开单控",
    "一开双控",
    "双开单控",
    "双开双控",
    "三开单控",
    "家用",
    "暗装",
    "大板",
    "无框",
    "带LED指示灯",
];
pub(crate) const KITCHEN_EXTRAS: &[&str] = &[
    "家用",
    "多功能",
    "智能",
    "大容量",
    "小型",
    "节能",
    "触控",
    "定时",
    "一级能效",
    "官方正品",
];
pub(crate) const CARE_EXTRAS: &[&str] = &[
    "家用",
    "大功率",
    "负离子",
    "护发",
    "速干",
    "静音",
    "宿舍",
    "折叠",
];
pub(crate) const HOME_EXTRAS: &[&str] = &[
    "家用",
    "静音",
    "遥控",
    "节能",
    "大风力",
    "速热",
    "宿舍",
    "智能",
];
pub(crate) const TOY_EXTRAS: &[&str] = &[
    "儿童",
    "男孩",
    "女孩",
    "益智",
    "生日礼物",
    "3-6岁",
    "6岁+",
    "早教",
    "宝宝",
    "六一礼物",
];
pub(crate) const SHAVER_EXTRAS: &[&str] =
    &["男士", "充电式", "全身水洗", "便携", "送男友", "旋转式"];
pub(crate) const KETTLE_EXTRAS: &[&str] = &[
    "家用",
    "1.7L",
    "304不锈钢",
    "自动断电",
    "恒温",
    "大容量",
    "双层防烫",
    "智能保温",
];
pub(crate) const COOKER_EXTRAS: &[&str] = &[
    "家用",
    "3-4人",
    "4L",
    "5L",
    "智能预约",
    "IH加热",
    "多功能",
    "不粘内胆",
    "低糖",
];

/// Accessories and non-catalog goods whose titles carry catalog words:
/// (group, title, category, price range). Out of scope for CCC.
pub(crate) const ACCESSORIES: &[(usize, &str, &str, (u32, u32))] = &[
    (
        0,
        "插座保护盖儿童防触电安全塞婴儿插孔保护套",
        "家装主材>电工电料>插座配件",
        (5, 19),
    ),
    (
        0,
        "排插收纳盒插线板理线盒桌面电线收纳神器",
        "家居日用>收纳整理>收纳盒",
        (15, 59),
    ),
    (
        0,
        "开关贴墙贴卡通开关面板保护贴装饰贴",
        "家居日用>装饰>墙贴",
        (3, 15),
    ),
    (
        0,
        "插座防水盒卫生间86型开关插座防溅盒",
        "家装主材>电工电料>插座配件",
        (4, 25),
    ),
    (
        1,
        "电饭煲内胆通用4L不粘锅内胆替换",
        "厨房小电>配件",
        (39, 129),
    ),
    (
        1,
        "电水壶除垢剂柠檬酸食品级水垢清除剂",
        "家庭清洁>清洁剂",
        (9, 29),
    ),
    (
        1,
        "吹风机支架免打孔浴室置物架",
        "家居日用>浴室用品>置物架",
        (12, 49),
    ),
    (
        1,
        "空气炸锅专用纸吸油纸硅油纸100张",
        "厨房用品>烘焙用具",
        (9, 25),
    ),
    (
        1,
        "微波炉专用饭盒加热碗带盖保鲜盒",
        "厨房用品>保鲜盒",
        (12, 49),
    ),
    (
        2,
        "积木收纳箱分拣盒大容量乐高积木收纳",
        "家居日用>收纳整理>收纳箱",
        (19, 89),
    ),
    (
        2,
        "毛绒玩具手机壳适用苹果15卡通公仔保护套",
        "手机配件>手机壳",
        (19, 59),
    ),
    (
        2,
        "玩具收纳架儿童绘本架宝宝整理柜",
        "家具>儿童家具",
        (59, 299),
    ),
    (
        2,
        "遥控车电池7.4V锂电池充电电池组配件",
        "玩具乐器>配件",
        (19, 69),
    ),
];

/// Small brands that own no certificate (not in `brands.csv`, not look-alikes).
pub(crate) const NO_NAME_BRANDS: &[&str] = &[
    "佳乐美",
    "鑫宇达",
    "家帮手",
    "品优家",
    "久诺",
    "沃德尔",
    "益美家",
    "凯德利",
    "华琪",
    "安立信",
    "小霸龙",
    "巧伶俐",
    "宝乐童",
    "星宇",
];

/// Look-alike spellings of real brands (one character changed or added).
const LOOKALIKES: &[(&str, &str)] = &[
    ("公牛", "公午"),
    ("正泰", "正秦"),
    ("德力西", "德力酉"),
    ("美的", "美旳"),
    ("九阳", "久阳"),
    ("苏泊尔", "苏伯尔"),
    ("小米", "小来"),
    ("飞利浦", "飞立浦"),
    ("格力", "格丽"),
    ("格兰仕", "格兰士"),
    ("乐高", "乐高高"),
    ("小熊", "小態"),
    ("海尔", "海尔尔"),
    ("松下", "松不"),
    ("施耐德", "施耐得"),
    ("飞科", "飞料"),
];

/// A look-alike of `brand`: a known one, or the last character doubled.
pub(crate) fn lookalike(brand: &str) -> String {
    if let Some((_, l)) = LOOKALIKES.iter().find(|(b, _)| *b == brand) {
        return (*l).to_string();
    }
    let last = brand.chars().last().unwrap_or('牌');
    format!("{brand}{last}")
}

/// Marketing words any title may carry.
pub(crate) const MARKETING: &[&str] = &[
    "新款",
    "2025新款",
    "官方正品",
    "包邮",
    "热销",
    "爆款",
    "正品保障",
    "品质保证",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookalikes_differ() {
        assert_eq!(lookalike("公牛"), "公午");
        assert_eq!(lookalike("贝恩施"), "贝恩施施");
    }

    #[test]
    fn no_name_brands_are_no_known_brand() {
        let data = super::super::data::Data::get();
        for b in NO_NAME_BRANDS {
            assert!(
                data.brands
                    .iter()
                    .all(|k| !b.contains(&k.name) && !k.name.contains(b)),
                "{b}"
            );
        }
    }
}
