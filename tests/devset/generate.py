#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Generate the cccwatch development set (labelled listings + certificate export).

Standard library only, fixed seed, deterministic.  Inputs: certdb/brands.csv and
tests/devset/catalog_2026-11.csv (the catalog as it was when the set was made).  Outputs (next to this file): certificates.csv, listings.jsonl,
labels.csv, README.md.

The labels follow the verdict rules of the task brief (see README.md).  Every case is
built from a structured intent (brand, model, cited numbers), rendered to a platform
listing, then checked: the rendered text must carry exactly that intent (brand names
found, model tokens, every 16-digit window, scope under several readings of the
scope rule) and the reference judgement of the intent must equal the intended verdict.
Cases failing a check are discarded and regenerated; cases that stay ambiguous are
skipped.  The run ends with global invariant assertions and a read-back of the files.
"""
import csv
import datetime as dt
import io
import json
import os
import random
import re
import string
import sys
import unicodedata
from collections import Counter, OrderedDict, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
BRANDS_CSV = os.path.join(ROOT, 'certdb', 'brands.csv')
CATALOG_CSV = os.path.join(ROOT, 'tests', 'devset', 'catalog_2026-11.csv')
OUT_CERTS = os.path.join(HERE, 'certificates.csv')
OUT_LISTINGS = os.path.join(HERE, 'listings.jsonl')
OUT_LABELS = os.path.join(HERE, 'labels.csv')
OUT_README = os.path.join(HERE, 'README.md')

SEED = 20260630
ASOF = dt.date(2026, 6, 30)
TARGET_CERTS = 1500
R = random.Random(SEED)

CERT_HEADER = ['证书编号', '证书状态', '产品类别代码', '产品名称', '规格型号', '认证委托人名称',
               '生产者名称', '生产企业名称', '颁证日期', '证书到期日期', '初次获证日期', '发证机构名称',
               '状态变更日期', '状态变更原因']

VERDICTS = ['compliant', 'not_in_scope', 'uncertified', 'cert_not_found', 'cert_mismatch',
            'expired', 'suspended', 'revoked', 'cancelled']
STATUS_VERDICTS = ('expired', 'suspended', 'revoked', 'cancelled')
RANK = {'compliant': 0, 'expired': 1, 'suspended': 1, 'revoked': 1, 'cancelled': 1,
        'cert_mismatch': 2, 'cert_not_found': 3}


class Reject(Exception):
    """A generated case failed a consistency check: discard and regenerate."""


# ----------------------------------------------------------------------------- text utils

def nfkc(s):
    return unicodedata.normalize('NFKC', s)


def fold(s):
    return nfkc(s).casefold()


def is_ascii(s):
    return all(ord(c) < 128 for c in s)


FW_CHARS = string.ascii_letters + string.digits + '-:;()/,.~!'


def fullwidth(s, digits_only=False):
    out = []
    for c in s:
        if c in FW_CHARS and (not digits_only or c.isdigit()):
            out.append(chr(ord(c) + 0xFEE0))
        else:
            out.append(c)
    return ''.join(out)


def add_years(d, n):
    try:
        return d.replace(year=d.year + n)
    except ValueError:  # 29 Feb
        return d.replace(year=d.year + n, day=28)


def rand_date(a, b):
    if b < a:
        a, b = b, a
    return a + dt.timedelta(days=R.randint(0, (b - a).days))


def fmt_date(d, style):
    if d is None:
        return ''
    if style == 'iso':
        return d.strftime('%Y-%m-%d')
    if style == 'slash':
        return d.strftime('%Y/%m/%d')
    return '%04d年%02d月%02d日' % (d.year, d.month, d.day)


COLOURS = ['白色', '黑色', '灰色', '象牙白', '香槟金', '深空灰', '粉色', '蓝色', '红色', '绿色']
COLOUR_RE = re.compile(r'(?:[(\[]\s*(?:%s)\s*[)\]]|(?:%s))$' % ('|'.join(COLOURS), '|'.join(COLOURS)))


def model_key(written):
    """Normalise a written model: width, case, spaces, hyphens, underscores, colour suffix."""
    s = nfkc(written).strip()
    s = COLOUR_RE.sub('', s).strip()
    return re.sub(r'[\s\-_]', '', s).upper()


RATING_RE = re.compile(r'^\d+(?:\.\d+)?(?:V|A|W|L|ML|MAH|AH|HZ|KG|G|CM|MM|M|KW|P)$', re.I)
RUN_RE = re.compile(r'[A-Za-z0-9][A-Za-z0-9_\-]*')


def model_like_tokens(text):
    """Model-like tokens: maximal [A-Za-z0-9_-] runs with a letter and a digit, length 5-14,
    that are not ratings/capacities."""
    out = []
    for m in RUN_RE.finditer(nfkc(text)):
        tok = m.group(0).strip('-_')
        if not (5 <= len(tok) <= 14):
            continue
        if not (re.search(r'[A-Za-z]', tok) and re.search(r'\d', tok)):
            continue
        if RATING_RE.match(tok):
            continue
        out.append(tok)
    return out


DIGITRUN_RE = re.compile(r'[0-9]+(?:[ \-][0-9]+)*')


def digit_windows(text):
    """Every 16-digit window of every digit run (runs may be grouped by single spaces or
    hyphens) in the NFKC form of text.  Deliberately greedy: a superset of what any
    reasonable extractor could read as a certificate number."""
    wins = set()
    for m in DIGITRUN_RE.finditer(nfkc(text)):
        d = re.sub(r'[ \-]', '', m.group(0))
        for i in range(0, len(d) - 15):
            wins.add(d[i:i + 16])
    return wins


# ----------------------------------------------------------------------------- inputs

def load_brands():
    brands = OrderedDict()
    with open(BRANDS_CSV, encoding='utf-8-sig', newline='') as f:
        for row in csv.DictReader(f):
            canon = row['brand'].strip()
            if not canon:
                continue
            aliases = [a.strip() for a in (row.get('aliases') or '').split('|') if a.strip()]
            companies = [c.strip() for c in (row.get('companies') or '').split('|') if c.strip()]
            ts = (row.get('title_search') or '').strip().lower()
            brands[canon] = {'canon': canon, 'aliases': aliases, 'companies': companies,
                             'title_search': ts not in ('no', 'false', '0', 'n')}
    return brands


def load_catalog():
    rows = []
    with open(CATALOG_CSV, encoding='utf-8-sig', newline='') as f:
        for row in csv.DictReader(f):
            kws = [k.strip() for k in (row.get('keywords') or '').split('|') if k.strip()]
            exs = [e.strip() for e in (row.get('exclusions') or '').split('|') if e.strip()]
            rows.append({'code': row['code'].strip(), 'name': row['name'].strip(),
                         'group': row['group'].strip(), 'kw': kws, 'ex': exs,
                         'kw_f': [fold(k) for k in kws], 'ex_f': [fold(e) for e in exs]})
    return rows


BRANDS = load_brands()
CATALOG = load_catalog()
CAT = {r['code']: r for r in CATALOG}

NAMES = []  # (folded name, canonical brand)
for _c, _b in BRANDS.items():
    for _n in [_c] + _b['aliases']:
        NAMES.append((fold(_n), _c))
NAME_EXACT = defaultdict(set)
for _n, _c in NAMES:
    NAME_EXACT[_n].add(_c)
ALL_COMPANIES = set()
for _b in BRANDS.values():
    ALL_COMPANIES.update(_b['companies'])


def text_brand_hits(text):
    """Canonical brands any of whose names occurs (case/width-insensitive substring)."""
    t = fold(text)
    return {c for n, c in NAMES if n and n in t}


def field_brands(value):
    parts = [p for p in re.split(r'[/()\s]+', nfkc(value)) if p]
    canons, unknown = set(), []
    for p in parts:
        cs = NAME_EXACT.get(fold(p))
        if cs:
            canons |= cs
        else:
            unknown.append(p)
    return canons, unknown


# names that, written alone, point only at their own brand under substring search
SAFE = {c: [n for n in [c] + b['aliases'] if text_brand_hits(n) == {c}] for c, b in BRANDS.items()}


def belongs(canon, company, loose):
    """Brand belongs to company: listed in brands.csv companies, or the brand name is
    contained in the company name.  strict: canonical name only; loose: any alias too."""
    if not company:
        return False
    b = BRANDS[canon]
    if company in b['companies']:
        return True
    names = [canon] + (b['aliases'] if loose else [])
    fc = fold(company)
    return any(fold(n) in fc for n in names)


# ----------------------------------------------------------------------------- scope

def _row_flags(text):
    t = fold(text)
    return [(r['code'], any(k in t for k in r['kw_f']), any(e in t for e in r['ex_f']))
            for r in CATALOG]


def scope_perrow(text):
    return any(k and not e for _, k, e in _row_flags(text))


def scope_global(text):
    fl = _row_flags(text)
    return any(k for _, k, _ in fl) and not any(e for _, _, e in fl)


def scope_views(title, category):
    cat = category or ''
    both = title + '\n' + cat
    a = scope_perrow(both)
    c = scope_perrow(title) or (bool(cat) and scope_perrow(cat))
    b = scope_global(both)
    d = scope_global(title) or (bool(cat) and scope_global(cat))
    # title first: a title with any catalog keyword decides alone, else the category
    e = scope_perrow(title) if any_keyword(title) else (bool(cat) and scope_perrow(cat))
    if e != a:
        raise Reject('title-first scope reading disagrees')
    return a, b, c, d


def any_keyword(text):
    return any(k for _, k, _ in _row_flags(text))


# ----------------------------------------------------------------------------- domain tables

BRAND_CODES = {
    '公牛': ['0201', '0201', '0202', '0206', '0907'], '正泰': ['0201', '0202', '0206'],
    '德力西': ['0201', '0202', '0206'], '施耐德': ['0201', '0202'], '西门子': ['0201', '0202', '0701', '0705'],
    '罗格朗': ['0201', '0202'], '西蒙': ['0201', '0202'], '松下': ['0201', '0202', '0709', '0705', '0718'],
    '鸿雁': ['0201', '0202'], 'ABB': ['0201', '0202'], '良信': ['0201', '0202'], '欧普': ['1001', '0202'],
    '雷士': ['1001', '0201'], '飞雕': ['0201', '0202'], '突破': ['0201'], '绿联': ['0201', '0907'],
    '品胜': ['0201', '0907', '0914'], '航嘉': ['0201', '0907'], '酷斗': ['0201'], '得力': ['0201', '1001'],
    '倍思': ['0907', '0914'], '安克': ['0907', '0914'], '正野': ['0201', '0202'], '华为': ['0907', '0914'],
    '罗马仕': ['0914', '0907'], '紫米': ['0914', '0907'], '朗能': ['0201', '0202'],
    '美的': ['0701', '0702', '0703', '0705', '0706', '0707', '0711', '0712', '0714', '0717', '0718', '0716'],
    '格力': ['0703', '0702', '0707', '0717'], '海尔': ['0701', '0703', '0705', '0706'],
    '九阳': ['0713', '0717', '0718', '0711', '0712'], '苏泊尔': ['0717', '0718', '0711', '0712', '0713'],
    '小熊': ['0717', '0712', '0713'], '格兰仕': ['0714', '0712', '0701'], '奥克斯': ['0703', '0702'],
    '海信': ['0701', '0703'], '长虹': ['0703', '0701'], 'TCL': ['0703', '0705'], '容声': ['0701'],
    '美菱': ['0701'], '方太': ['0716', '0715'], '老板': ['0716'], '华帝': ['0716', '0706'],
    '万和': ['0706', '0716'], '万家乐': ['0706', '0716'], 'A.O.史密斯': ['0706'], '艾美特': ['0702', '0707'],
    '先锋': ['0702', '0707'], '戴森': ['0708', '0709', '0702'], '飞科': ['0709'], '博朗': ['0709'],
    '飞利浦': ['0709', '0710', '0708'], '摩飞': ['0712', '0717', '0713'], '北鼎': ['0717'], '德龙': ['0717'],
    '东菱': ['0712', '0713', '0717'], '荣事达': ['0711', '0717'], '奔腾': ['0709', '0710'], '澳柯玛': ['0701'],
    '小天鹅': ['0705'], '科沃斯': ['0708'], '追觅': ['0708', '0709'], '莱克': ['0708'],
    '德尔玛': ['0708', '0710'], '小米': ['0201', '0907', '0914', '0708', '0702', '0718'],
    '志高': ['0703', '0702'], '云米': ['0716', '0701'], '博世': ['0701', '0705'], '康佳': ['0701'],
    '乐高': ['2203'], '奥迪双钻': ['2202', '2203'], '澳贝': ['2202', '2203'], '贝恩施': ['2207', '2203', '2202'],
    '好孩子': ['2201', '2205'], '孩之宝': ['2207', '2206'], '美泰': ['2204', '2206'], '费雪': ['2202', '2203'],
    '星辉': ['2202', '2205'], '伟易达': ['2202'], '汇乐': ['2202', '2203'], '布鲁可': ['2203'],
    '万代': ['2203', '2206'], '森宝积木': ['2203'], '启蒙': ['2203'], '凤凰': ['2201'], '永久': ['2201'],
    '优贝': ['2201', '2205'], '火火兔': ['2202'], '可优比': ['2201', '2206'], '邦宝': ['2203'],
    '实丰': ['2202', '2207'], '银辉': ['2202'],
}

PRODUCT_NAMES = {
    '0201': ['延长线插座', '转换器', '单相两极带接地插座', '单相两极和单相两极带接地插座', '移动式插座'],
    '0202': ['家用和类似用途固定式电气装置的开关', '开关'],
    '0204': ['器具耦合器'], '0206': ['家用和类似用途固定式电气装置的电器附件外壳'],
    '0701': ['家用电冰箱', '冷藏冷冻箱', '食品冷冻箱'], '0702': ['电风扇', '落地扇', '台扇'],
    '0703': ['房间空气调节器', '分体热泵型房间空气调节器'], '0705': ['电动洗衣机', '滚筒洗衣机', '波轮全自动洗衣机'],
    '0706': ['储水式电热水器', '快热式电热水器'], '0707': ['室内加热器', '电暖器', '暖风机'],
    '0708': ['真空吸尘器', '扫地机器人'], '0709': ['皮肤及毛发护理器具', '电吹风', '电动剃须刀'],
    '0710': ['电熨斗', '蒸汽挂烫机'], '0711': ['电磁灶'], '0712': ['电烤箱', '空气炸锅', '多士炉'],
    '0713': ['电动食品加工器具', '豆浆机', '破壁料理机'], '0714': ['微波炉'], '0715': ['电灶', '电陶炉'],
    '0716': ['吸油烟机'], '0717': ['液体加热器', '电热水壶', '电压力锅', '饮水机'], '0718': ['电饭锅'],
    '2201': ['儿童自行车', '儿童三轮车', '儿童推车', '婴儿学步车'], '2202': ['电玩具', '电动遥控车', '电子琴玩具'],
    '2203': ['塑胶玩具', '拼插积木'], '2204': ['金属玩具', '合金车模玩具'], '2205': ['乘骑玩具', '儿童电动车'],
    '2206': ['娃娃玩具', '毛绒玩具'], '2207': ['弹射玩具'], '0807': ['音视频设备用电源适配器'],
    '0907': ['信息技术设备用电源适配器', '充电器'], '0914': ['移动电源'],
    '1001': ['可移式通用灯具', '固定式通用灯具'],
}

CERT_RATINGS = {
    '0201': ['250V~ 10A', '250V～ 10A', '250V~ 16A', '250V~ 10A 2500W', '250V～ 10A 2500W'],
    '0202': ['250V~ 10A', '250V～ 10A', '250V~ 16A'], '0204': ['250V~ 10A'], '0206': [''],
    '0701': ['220V～50Hz 120W', '220V~ 50Hz 150W'], '0702': ['220V～50Hz 45W', '220V~ 50Hz 60W'],
    '0703': ['220V～50Hz 制冷量3500W', '220V~ 50Hz 2600W'], '0705': ['220V～50Hz 400W', '220V~ 50Hz 2000W'],
    '0706': ['220V～50Hz 2100W', '220V~ 50Hz 3000W'], '0707': ['220V～50Hz 2000W', '220V~ 50Hz 2200W'],
    '0708': ['220V～50Hz 600W', '14.4V 150W'], '0709': ['220V～50Hz 1800W', '220V~ 50Hz 2000W'],
    '0710': ['220V～50Hz 1500W', '220V~ 50Hz 2000W'], '0711': ['220V～50Hz 2100W', '220V~ 50Hz 2200W'],
    '0712': ['220V～50Hz 1500W', '220V~ 50Hz 1350W'], '0713': ['220V～50Hz 800W', '220V~ 50Hz 1000W'],
    '0714': ['220V～50Hz 1150W', '220V~ 50Hz 1280W'], '0715': ['220V～50Hz 2200W'],
    '0716': ['220V～50Hz 220W', '220V~ 50Hz 260W'], '0717': ['220V～50Hz 1800W', '220V~ 50Hz 1500W'],
    '0718': ['220V～50Hz 700W', '220V~ 50Hz 860W'], '2201': [''], '2202': ['3V', '4.5V', '6V'],
    '2203': [''], '2204': [''], '2205': ['6V', '12V'], '2206': [''], '2207': ['', '3V'],
    '0807': ['输入：100-240V~ 50/60Hz 输出：12V 1A'], '0907': ['输入：100-240V~ 50/60Hz 输出：5V 2A', '100-240V~ 输出：20V 3.25A'],
    '0914': ['10000mAh 3.7V', '20000mAh 3.7V'], '1001': ['220V~ 50Hz 12W', '220V～ 50Hz 24W'],
}

ACCESSORY_NOTES = ['(配电源线)', '（配电源线）', '（含遥控器）', '(配USB充电线)', '（颜色：白、黑）', '(外观颜色不同)',
                   '（配适配器）', '(带开关)']

TITLE_RATINGS = {
    '0201': ['10A', '16A', '2500W', '4000W', '1.8米', '3米', '5米', '8位', '5孔'],
    '0202': ['10A', '16A', '86型'], '0701': ['一级能效', '变频'], '0702': ['7叶', '遥控'],
    '0703': ['1.5匹', '大1匹', '3匹'], '0705': ['10公斤', '8公斤'], '0706': ['60升', '80升', '3000W'],
    '0707': ['2200W', '2000W'], '0708': ['600W', '大吸力'], '0709': ['1800W', '2000W'], '0710': ['1500W', '2000W'],
    '0711': ['2200W', '2100W'], '0712': ['4L', '5L', '12L'], '0713': ['1.2L', '800W'], '0714': ['20L', '23L'],
    '0715': ['2200W'], '0716': ['21立方', '23立方'], '0717': ['1.7L', '1.5L', '1800W'], '0718': ['3L', '4L', '5L'],
    '2201': ['12寸', '14寸', '16寸'], '2202': ['1:16', '2.4G'], '2203': ['300粒', '500粒'], '2204': ['1:32', '1:24'],
    '2205': ['6V', '12V'], '2206': ['30cm', '45cm'], '2207': ['10发', '20发'], '0907': ['20W', '65W', '30W'],
    '0914': ['10000mAh', '20000mAh'], '1001': ['12W', '24W'],
}

TITLE_FILLERS = {
    'plug': ['新国标', '家用', '多功能', '带USB', '儿童保护门', '防过载', '独立开关', '总控', '宿舍', '办公',
             '正品', '加长', '大功率', '多位', '带线', '一转多', '立式', '桌面'],
    'switch': ['家用', '暗装', '大板', '白色面板', '哑光', '超薄', '全屋套装', '灰色', '静音'],
    'appl': ['家用', '小型', '智能', '大容量', '新款', '官方', '节能', '静音', '定时', '预约', '一键',
             '多功能', '宿舍', '迷你', '正品', '不锈钢'],
    'toy': ['儿童', '益智', '男孩', '女孩', '3-6岁', '生日礼物', '宝宝', '早教', '六一礼物', '新年礼物'],
    'power': ['快充', '多口', '便携', '手机通用', '小巧', '折叠插脚'],
    'lamp': ['护眼', '学生', '宿舍', '卧室', '书桌', '阅读', '触摸', '调光', '无频闪'],
}
CODE_FILLER = {'0201': 'plug', '0202': 'switch', '0204': 'plug', '0206': 'switch', '0907': 'power',
               '0914': 'power', '0807': 'power', '1001': 'lamp'}

CATEGORIES = {
    '0201': ['家装主材>电工电料>插座', '电工电料>插线板', '家装主材>电工电料>转换插头', '五金/工具>电工电料'],
    '0202': ['家装主材>电工电料>墙壁开关', '家装主材>电工电料'],
    '0701': ['大家电>冰箱'], '0702': ['生活电器>电风扇'], '0703': ['大家电>空调'], '0705': ['大家电>洗衣机'],
    '0706': ['大家电>电热水器'], '0707': ['生活电器>取暖器'], '0708': ['生活电器>吸尘器'],
    '0709': ['个护健康>电吹风', '个护健康>剃须刀'], '0710': ['生活电器>挂烫机'], '0711': ['厨房小电>电磁炉'],
    '0712': ['厨房小电>空气炸锅', '厨房小电>电烤箱'], '0713': ['厨房小电>豆浆机', '厨房小电>破壁机'],
    '0714': ['厨房小电>微波炉'], '0715': ['厨房小电>电陶炉'], '0716': ['大家电>油烟机'],
    '0717': ['厨房小电>电热水壶', '厨房小电>养生壶'], '0718': ['厨房小电>电饭煲'],
    '2201': ['玩具/童车/益智/积木/模型>儿童三轮车', '童车童床>婴儿推车'], '2202': ['玩具/童车/益智/积木/模型>遥控车'],
    '2203': ['玩具/童车/益智/积木/模型>积木'], '2204': ['玩具/童车/益智/积木/模型>合金车'],
    '2205': ['玩具/童车/益智/积木/模型>扭扭车'], '2206': ['玩具/童车/益智/积木/模型>毛绒玩具'],
    '2207': ['玩具/童车/益智/积木/模型>泡泡机'], '0907': ['数码>充电器'], '0914': ['数码>移动电源'],
    '1001': ['灯饰照明>台灯', '灯饰照明>吸顶灯'], '0206': ['家装主材>电工电料>底盒'],
}
NEUTRAL_CATEGORIES = {
    'plug': ['家装主材>电工电料', '五金/工具'], 'switch': ['家装主材>电工电料'], 'appl': ['厨房小电', '生活电器', '大家电'],
    'toy': ['玩具/童车/益智/模型'], 'power': ['数码'], 'lamp': ['灯饰照明'],
}

BODIES = {'01': '中国质量认证中心', '08': '中国检验认证集团质量认证有限公司', '15': '中轻检验认证有限公司'}

REASONS = {
    'suspended': ['监督抽样检验不合格', '企业申请暂停', '拒绝接受监督检查', '未按规定使用认证标志', '获证产品变更未申请变更认证'],
    'revoked': ['暂停期限届满未整改', '转让或者出借认证证书', '暂停期间继续出厂、销售获证产品', '获证产品存在缺陷导致质量安全事故'],
    'cancelled': ['证书有效期届满未申请延续', '获证产品不再生产', '证书持有人申请注销', '企业注销'],
    'expired': ['证书到期未换证', '证书有效期届满'],
    'restored': ['暂停期满整改合格，恢复证书', '恢复证书'],
}
STATUS_WORD = {'valid': '有效', 'suspended': '暂停', 'revoked': '撤销', 'cancelled': '注销', 'expired': '过期失效'}
STATUS_CODE = {'valid': '01', 'suspended': '02', 'revoked': '03', 'cancelled': '04', 'expired': '05'}
STATUS_NOTES = {
    'suspended': ['暂停（企业申请）', '暂停(监督抽样不合格)', '暂停（拒绝监督检查）'],
    'revoked': ['撤销（出借证书）', '撤销(暂停期满未整改)'],
    'cancelled': ['注销（企业申请）', '注销（证书到期未延续）', '注销(产品停产)'],
    'expired': ['过期失效（到期未换证）'],
}
STATUS_PARSE = {'有效': 'valid', '暂停': 'suspended', '撤销': 'revoked', '注销': 'cancelled', '过期失效': 'expired',
                '01': 'valid', '02': 'suspended', '03': 'revoked', '04': 'cancelled', '05': 'expired'}

CITIES = ['慈溪', '余姚', '乐清', '温州', '义乌', '中山', '佛山', '东莞', '深圳', '宁波', '汕头', '台州', '永康',
          '昆山', '常州', '江门', '揭阳', '潮州', '嘉兴', '金华', '绍兴', '泉州', '厦门', '惠州', '漳州']
ZIHAO = ['天元', '华联', '恒达', '鑫源', '宏发', '永盛', '瑞丰', '金利', '伟业', '嘉华', '博远', '恒信', '鸿泰', '宏图',
         '瑞达', '盛世', '汇通', '新亚', '俊达', '佳宝', '明远', '兴旺', '康达', '利达', '宏昌', '精诚', '德盛', '长兴',
         '旭日', '安达', '通达', '协力', '宝丰', '振华', '金帆', '荣鑫', '海纳', '正阳', '中联', '昌盛']
OEM_KIND = {'plug': ['电器', '电子', '塑料电器', '五金电器'], 'switch': ['电器', '电工'], 'appl': ['家用电器', '电器制造', '电器'],
            'toy': ['玩具', '塑胶玩具', '童车'], 'power': ['电子', '电子科技'], 'lamp': ['照明电器', '灯饰']}

PLATFORMS = ['taobao', 'tmall', 'jd', '1688', 'pinduoduo', 'douyin']


def neutral_category(code):
    if code in ('0701', '0703', '0705', '0706', '0716'):
        return '大家电'
    if code in ('0702', '0707', '0708', '0710'):
        return '生活电器'
    if code == '0709':
        return '个护健康'
    if code.startswith('07'):
        return '厨房小电'
    return NEUTRAL_CATEGORIES[group_of(code)][0]


def group_of(code):
    if code in CODE_FILLER:
        return CODE_FILLER[code]
    if code.startswith('07'):
        return 'appl'
    if code.startswith('22'):
        return 'toy'
    return 'appl'


# ----------------------------------------------------------------------------- certificates

class Cert:
    __slots__ = ('number', 'status_text', 'status', 'code', 'product', 'models', 'model_text', 'applicant',
                 'manufacturer', 'factory', 'issue', 'expiry', 'initial', 'body', 'change_date', 'reason',
                 'date_style', 'flavour', 'style', 'kind', 'owner', 'cover', 'ambig', 'keys', 'asof',
                 'renewal_of')

    def row(self):
        ds = self.date_style
        return [self.number, self.status_text, self.code, self.product, self.model_text, self.applicant,
                self.manufacturer, self.factory, fmt_date(self.issue, ds), fmt_date(self.expiry, ds),
                fmt_date(self.initial, ds), BODIES[self.body], fmt_date(self.change_date, ds), self.reason]


def status_on_asof(status, expiry, change_date):
    """Rule: a change dated after the as-of date has not applied yet (the certificate was
    valid then).  Revoked/cancelled stay; expired when status says so or expiry < as-of;
    then suspended; else compliant."""
    st = status
    if st != 'valid' and change_date is not None and change_date > ASOF:
        st = 'valid'
    if st in ('revoked', 'cancelled'):
        return st
    if st == 'expired' or expiry < ASOF:
        return 'expired'
    if st == 'suspended':
        return 'suspended'
    return 'compliant'


def bad_company_name(name):
    return bool(text_brand_hits(name)) or name in ALL_COMPANIES


USED_COMPANY_NAMES = set()


def gen_company(kind, grp):
    for _ in range(200):
        city, zh = R.choice(CITIES), R.choice(ZIHAO)
        if kind == 'oem':
            name = '%s市%s%s有限公司' % (city, zh, R.choice(OEM_KIND[grp]))
        elif kind == 'factory':
            name = '%s市%s%s厂' % (city, zh, R.choice(OEM_KIND[grp]))
        else:
            name = '%s市%s%s有限公司' % (city, zh, R.choice(['进出口', '贸易', '电子商务', '实业']))
        if not bad_company_name(name):
            USED_COMPANY_NAMES.add(name)
            return name
    raise RuntimeError('cannot make company name')


def gen_brand_company(canon, grp):
    for _ in range(200):
        city = R.choice(CITIES)
        if R.random() < 0.5:
            name = '%s（%s）%s销售有限公司' % (canon, city, R.choice(['电器', '电子', '家居', '玩具']))
        else:
            name = '%s%s%s科技有限公司' % (city, canon, R.choice(['电器', '电子', '智能']))
        if name in ALL_COMPANIES:
            continue
        if text_brand_hits(name) != {canon}:
            continue
        if all(belongs(canon, name, lo) for lo in (False, True)):
            return name
    return None


MODEL_LETTERS = 'ABCDEFGHJKLMNPRSTUVWXYZ'  # no I / O
PREFIX_OF = {}
USED_PREFIXES = set()
ALIAS_UP = sorted({nfkc(n).upper() for n, _ in NAMES if is_ascii(n) and len(n) >= 2} |
                  {nfkc(c).upper() for c in BRANDS if is_ascii(c)})
MODEL_OWNER = {}          # model key -> applicant
MODEL_CERTS = defaultdict(list)


def model_has_alias(m):
    up = m.upper()
    return any(a in up for a in ALIAS_UP)


def prefix_for(company):
    if company in PREFIX_OF:
        return PREFIX_OF[company]
    for _ in range(1000):
        n = R.choice([2, 2, 2, 3, 1])
        p = ''.join(R.choice(MODEL_LETTERS) for _ in range(n))
        if p in USED_PREFIXES or model_has_alias(p):
            continue
        USED_PREFIXES.add(p)
        PREFIX_OF[company] = p
        return p
    raise RuntimeError('prefixes exhausted')


def D(n):
    return ''.join(R.choice(string.digits) for _ in range(n))


def L():
    return R.choice(MODEL_LETTERS)


def shape_model(p):
    s = R.randrange(7)
    if s == 0:
        return '%s-%s%s' % (p, L(), D(4))
    if s == 1:
        return '%s-%s%s%s%s%s' % (p, L(), L(), D(2), L(), D(1))
    if s == 2:
        return '%s%s-%s%s' % (p[0], D(2), L(), D(1))
    if s == 3:
        return '%s%s%s%s' % (p, D(2), L(), D(3))
    if s == 4:
        return '%s-%s%s' % (p, D(3), L())
    if s == 5:
        return '%s%s-%s%s%s' % (p, L(), D(3), L(), L())
    return '%s%s-%s' % (p, D(2), D(4))


def valid_model_shape(m):
    return (5 <= len(m) <= 14 and re.fullmatch(r'[A-Z0-9\-]+', m) and re.search(r'[A-Z]', m)
            and re.search(r'\d', m) and m[0].isalpha() and not model_has_alias(m))


def new_model(company, reserve=True):
    p = prefix_for(company)
    for _ in range(1000):
        m = shape_model(p)
        k = model_key(m)
        if valid_model_shape(m) and k not in MODEL_OWNER and k not in RESERVED_KEYS:
            if reserve:
                MODEL_OWNER[k] = company
            return m
    raise RuntimeError('models exhausted')


RESERVED_KEYS = set()   # keys of fake listing models (never in the database)


def fake_model(company):
    """A model of the company's family that is on no certificate."""
    m = new_model(company, reserve=False)
    RESERVED_KEYS.add(model_key(m))
    return m


USED_NUMBERS = set()


def new_number(year, body, code):
    for _ in range(10000):
        n = '%04d%s%s%06d' % (year, body, code, R.randint(1, 999999))
        if n not in USED_NUMBERS:
            USED_NUMBERS.add(n)
            return n
    raise RuntimeError('numbers exhausted')


FLAVOURS = [  # (flavour, weight)
    ('valid', 600), ('valid_boundary', 6), ('valid_restored', 10), ('future_change', 40),
    ('expired_status', 120), ('expired_date', 40), ('expired_date_boundary', 4), ('suspended', 80),
    ('suspended_on_asof', 5), ('suspended_past_expiry', 14), ('revoked', 60), ('revoked_past_expiry', 16),
    ('cancelled', 80), ('cancelled_past_expiry', 20),
]


def pick_flavour():
    tot = sum(w for _, w in FLAVOURS)
    x = R.uniform(0, tot)
    for f, w in FLAVOURS:
        x -= w
        if x <= 0:
            return f
    return 'valid'


def set_dates(c, flavour):
    """Fill status, dates, change date/reason for a flavour; returns nothing."""
    c.change_date, c.reason = None, ''
    st = 'valid'
    if flavour in ('valid', 'valid_restored', 'valid_boundary', 'future_change'):
        if flavour == 'valid_boundary':
            expiry = ASOF
        else:
            expiry = rand_date(ASOF + dt.timedelta(days=1), add_years(ASOF, 5) - dt.timedelta(days=1))
        if flavour == 'future_change':
            st = R.choice(['suspended', 'revoked', 'cancelled', 'expired'])
            if st == 'expired':
                expiry = rand_date(ASOF, ASOF + dt.timedelta(days=150))
                c.change_date = expiry + dt.timedelta(days=1)
            else:
                c.change_date = rand_date(ASOF + dt.timedelta(days=1), dt.date(2026, 12, 20))
                if expiry < c.change_date:
                    expiry = rand_date(c.change_date, add_years(ASOF, 5) - dt.timedelta(days=1))
            c.reason = R.choice(REASONS[st])
    elif flavour in ('expired_status', 'expired_date', 'expired_date_boundary'):
        expiry = ASOF - dt.timedelta(days=1) if flavour == 'expired_date_boundary' else \
            rand_date(dt.date(2019, 3, 1), ASOF - dt.timedelta(days=2))
        if flavour == 'expired_status':
            st = 'expired'
            c.change_date = expiry + dt.timedelta(days=1)
            c.reason = R.choice(REASONS['expired'])
    else:
        st = flavour.split('_')[0]
        past = flavour.endswith('past_expiry')
        if past:
            expiry = rand_date(dt.date(2020, 1, 1), ASOF - dt.timedelta(days=1))
        else:
            expiry = rand_date(ASOF + dt.timedelta(days=1), add_years(ASOF, 5) - dt.timedelta(days=1))
        c.expiry = expiry
    issue = add_years(expiry, -5)
    if R.random() < 0.5:
        issue += dt.timedelta(days=1)
    if issue > ASOF:
        issue = ASOF - dt.timedelta(days=R.randint(1, 30))
    if flavour in ('suspended', 'revoked', 'cancelled', 'suspended_past_expiry', 'revoked_past_expiry',
                   'cancelled_past_expiry'):
        hi = min(ASOF - dt.timedelta(days=1), expiry - dt.timedelta(days=1))
        if flavour == 'cancelled_past_expiry' and R.random() < 0.5:
            c.change_date = expiry + dt.timedelta(days=R.randint(1, 40))
            if c.change_date > ASOF:
                c.change_date = ASOF - dt.timedelta(days=1)
        else:
            c.change_date = rand_date(min(issue + dt.timedelta(days=30), hi), hi)
        c.reason = R.choice(REASONS[st])
    if flavour == 'suspended_on_asof':
        st = 'suspended'
        c.change_date = ASOF
        c.reason = R.choice(REASONS['suspended'])
    if flavour == 'valid_restored':
        hi = ASOF - dt.timedelta(days=10)
        c.change_date = rand_date(min(issue + dt.timedelta(days=60), hi), hi)
        c.reason = R.choice(REASONS['restored'])
    y0 = R.randint(2012, issue.year)
    initial = rand_date(dt.date(y0, 1, 1), min(dt.date(y0, 12, 31), issue))
    if y0 == issue.year:
        initial = issue
    c.status, c.expiry, c.issue, c.initial = st, expiry, issue, initial


def render_status(c):
    st = c.status
    x = R.random()
    if x < 0.14:
        c.style = 'code'
        c.status_text = STATUS_CODE[st]
    elif st != 'valid' and st in STATUS_NOTES and x < 0.38:
        c.style = 'note'
        c.status_text = R.choice(STATUS_NOTES[st])
    else:
        c.style = 'word'
        c.status_text = STATUS_WORD[st]


def render_models(c):
    if c.models is None:
        c.model_text = '见附件'
        return
    grp = group_of(c.code)
    rating = R.choice(CERT_RATINGS.get(c.code, ['']))
    sep = R.choice(['、', ',', ';', '；', ' ', 'mixed'])
    per_model = rating and R.random() < 0.35 and sep != ' '
    items = []
    for i, m in enumerate(c.models):
        items.append(m + (' ' + rating if per_model else ''))
    if sep == 'mixed':
        out = items[0]
        for it in items[1:]:
            out += R.choice([',', ';', '、', '；'])
            out += it
    else:
        out = sep.join(items)
    if rating and not per_model:
        out += ' ' + rating
    if R.random() < 0.15:
        out += ' ' + R.choice(ACCESSORY_NOTES) if R.random() < 0.5 else R.choice(ACCESSORY_NOTES)
    c.model_text = out.strip()


def make_cert(owner, code, kind, applicant, manufacturer, factory, flavour, models):
    c = Cert()
    c.owner, c.code, c.kind = owner, code, kind
    c.applicant, c.manufacturer, c.factory = applicant, manufacturer, factory
    c.flavour = flavour
    c.renewal_of = None
    set_dates(c, flavour)
    if code.startswith('22'):
        c.body = '15' if R.random() < 0.6 else '01'
    else:
        c.body = '01' if R.random() < 0.78 else '08'
    c.number = new_number(c.initial.year, c.body, code)
    c.product = R.choice(PRODUCT_NAMES.get(code, [CAT[code]['name']]))
    c.models = models
    c.date_style = R.choices(['iso', 'slash', 'cn'], [80, 10, 10])[0]
    render_status(c)
    render_models(c)
    return c


def build_certificates():
    certs = []
    brands = [b for b in BRANDS if b]
    codes_of = {}
    for b in brands:
        cs = [c for c in BRAND_CODES.get(b, []) if c in CAT]
        if not cs:
            cs = [R.choice([r['code'] for r in CATALOG])]
        codes_of[b] = cs
    weights = {b: 6 + 3 * len(codes_of[b]) for b in brands}
    tot = sum(weights.values())
    n_renew = 90
    base_target = TARGET_CERTS - n_renew
    for b in brands:
        n = max(6, round(base_target * weights[b] / tot))
        comps = BRANDS[b]['companies']
        for _ in range(n):
            code = R.choice(codes_of[b])
            grp = group_of(code)
            x = R.random()
            kind = 'normal'
            if not comps:
                kind = 'name_contains'
            elif x < 0.035:
                kind = 'mfr_only'
            elif x < 0.07:
                kind = 'name_contains'
            elif x < 0.08:
                kind = 'factory_only'
            if kind == 'normal':
                applicant = comps[0] if R.random() < 0.5 else R.choice(comps)
                y = R.random()
                if y < 0.55 or len(comps) == 1 and y < 0.75:
                    manufacturer = applicant
                elif y < 0.75 and len(comps) > 1:
                    manufacturer = R.choice([c for c in comps if c != applicant])
                else:
                    manufacturer = gen_company('oem', grp)
                factory = manufacturer if R.random() < 0.4 else gen_company(R.choice(['oem', 'factory']), grp)
            elif kind == 'mfr_only':
                applicant = gen_company('trading', grp)
                manufacturer = R.choice(comps)
                factory = manufacturer if R.random() < 0.5 else gen_company('factory', grp)
            elif kind == 'name_contains':
                applicant = gen_brand_company(b, grp)
                if applicant is None:
                    continue
                manufacturer = applicant if R.random() < 0.4 else gen_company('oem', grp)
                factory = gen_company('factory', grp)
            else:  # factory_only: brand company is only the factory
                applicant = gen_company('trading', grp)
                manufacturer = gen_company('oem', grp)
                factory = R.choice(comps)
            flav = pick_flavour()
            if R.random() < 0.065:
                models = None
            else:
                k = R.choices([1, 2, 3, 4, 5, 6], [20, 25, 20, 15, 10, 10])[0]
                models = [new_model(applicant) for _ in range(k)]
            certs.append(make_cert(b, code, kind, applicant, manufacturer, factory, flav, models))
    # renewals: an old certificate (lapsed) sharing models with a newer valid one
    valid_known = [c for c in certs if c.flavour == 'valid' and c.models and c.kind == 'normal']
    R.shuffle(valid_known)
    for newc in valid_known[:n_renew]:
        shared = R.sample(newc.models, R.randint(1, len(newc.models)))
        extra = [new_model(newc.applicant) for _ in range(R.randint(0, 2))]
        flav = R.choice(['expired_status', 'expired_status', 'cancelled', 'cancelled_past_expiry', 'expired_date'])
        old = make_cert(newc.owner, newc.code, 'normal', newc.applicant, newc.manufacturer, newc.factory, flav,
                        shared + extra)
        old.renewal_of = newc.number
        certs.append(old)
    certs.sort(key=lambda c: c.number)
    # derived
    for c in certs:
        c.asof = status_on_asof(c.status, c.expiry, c.change_date)
        c.keys = set(model_key(m) for m in c.models) if c.models else None
        c.cover, c.ambig = set(), set()
        for b in BRANDS:
            s = [belongs(b, c.applicant, lo) or belongs(b, c.manufacturer, lo) for lo in (False, True)]
            if s[0] and s[1]:
                c.cover.add(b)
            elif s[0] != s[1]:
                c.ambig.add(b)
        if c.models:
            for k in c.keys:
                MODEL_CERTS[k].append(c)
    return certs


# ----------------------------------------------------------------------------- listing helpers

def scope_ok_keywords():
    ok = {}
    for r in CATALOG:
        good, rowx = [], []
        for k in r['kw']:
            if text_brand_hits(k) or model_like_tokens(k):
                continue
            try:
                v = scope_views(k, '')
            except Reject:
                continue
            if all(v):
                good.append(k)
            elif v[0] and v[2] and not v[1] and not v[3]:
                rowx.append(k)
        ok[r['code']] = (good, rowx)
    return ok


OK_KW = scope_ok_keywords()


def ok_filler(f):
    return (not any_keyword(f) and not any(e for _, _, e in _row_flags(f)) and not text_brand_hits(f)
            and not model_like_tokens(f))


FILLERS = {g: [f for f in fs if ok_filler(f)] for g, fs in TITLE_FILLERS.items()}


def listable(code):
    return bool(OK_KW.get(code, ([], []))[0]) and code in CATEGORIES


def eng_name(canon):
    b = BRANDS[canon]
    for a in b['aliases']:
        if is_ascii(a):
            return a if (a in SAFE[canon] and ' ' not in a) else None
    return None


def zh_name(canon):
    if not is_ascii(canon) and canon in SAFE[canon]:
        return canon
    for a in BRANDS[canon]['aliases']:
        if not is_ascii(a) and a in SAFE[canon]:
            return a
    return None


def brand_forms(canon, alias=None):
    if alias:
        return [alias]
    zh, en = zh_name(canon), eng_name(canon)
    if is_ascii(canon):
        return [canon] if canon in SAFE[canon] else [None]
    if zh and en:
        return [en + '/' + zh, zh + '（' + en + '）', zh + '(' + en + ')', zh, en, zh + ' ' + en]
    return [zh or en]


def brand_form(canon, alias=None, where='field'):
    forms = brand_forms(canon, alias)
    if not forms or forms[0] is None:
        raise Reject('no safe brand name')
    w = [3, 3, 1, 4, 2, 1][:len(forms)]
    f = R.choices(forms, w)[0]
    if where == 'title' and R.random() < 0.08:
        f = fullwidth(f)
    return f


def alias_names(canon):
    first_en = eng_name(canon)
    return [a for a in BRANDS[canon]['aliases'] if a in SAFE[canon] and a != first_en and ' ' not in a]


LOOK_SUB = {'牛': '午', '泰': '秦', '米': '来', '的': '旳', '尔': '尓', '格': '咯', '阳': '杨', '熊': '雄', '高': '稿',
            '为': '伪', '仕': '士', '兰': '岚', '克': '壳', '斯': '撕', '科': '料', '飞': '非', '利': '莉', '浦': '蒲',
            '信': '言', '虹': '红', '帝': '谛', '和': '禾', '家': '嘉', '雁': '燕', '联': '连', '思': '恩', '宝': '室',
            '菱': '凌', '天': '夭', '鹅': '鸽', '贝': '见', '星': '呈', '辉': '晖', '蒙': '朦', '凤': '风', '久': '玖',
            '乐': '尔', '黑': '墨', '马': '吗', '野': '埜', '能': '態', '泊': '柏', '力': '办', '西': '酉'}


def edit1(a, b):
    if a == b:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    if abs(len(a) - len(b)) != 1:
        return False
    s, t = (a, b) if len(a) < len(b) else (b, a)
    return any(t[:i] + t[i + 1:] == s for i in range(len(t)))


def lookalike(canon):
    if is_ascii(canon) or len(canon) < 2:
        return None
    cands = []
    for i, ch in enumerate(canon):
        if ch in LOOK_SUB:
            cands.append(('sub', canon[:i] + LOOK_SUB[ch] + canon[i + 1:]))
    cands.append(('add', canon + canon[-1]))
    R.shuffle(cands)
    cands.sort(key=lambda x: 0 if x[0] == 'sub' else 1)
    for kind, s in cands:
        if fold(s) in NAME_EXACT:
            continue
        if kind == 'sub' and text_brand_hits(s):
            continue
        if kind == 'add' and text_brand_hits(s) != {canon}:
            continue
        if not edit1(s, canon):
            continue
        return kind, s
    return None


def write_model(m, style):
    if style == 'plain':
        return m
    if style == 'lower':
        return m.lower()
    if style == 'space':
        s = m.replace('-', ' ') if '-' in m else m[:2] + ' ' + m[2:]
        return s.lower() if R.random() < 0.5 else s
    if style == 'underscore':
        return m.replace('-', '_') if '-' in m else m[:2] + '_' + m[2:]
    if style == 'nohyphen':
        return m.replace('-', '')
    if style == 'fullwidth':
        return fullwidth(m)
    if style == 'colour':
        col, form = CASE_COLOUR[0] if CASE_COLOUR else (R.choice(COLOURS), R.randrange(3))
        return [m + col, m + '（' + col + '）', m + '(' + col + ')'][form]
    raise ValueError(style)


CASE_COLOUR = []   # one colour per listing


def one_digit_off(m):
    pos = [i for i, ch in enumerate(m) if ch.isdigit()]
    for _ in range(50):
        i = R.choice(pos)
        d = R.choice([x for x in string.digits if x != m[i]])
        v = m[:i] + d + m[i + 1:]
        k = model_key(v)
        if k not in MODEL_CERTS and k not in MODEL_OWNER:
            return v
    raise Reject('no one-digit-off model')


def letter_suffix(m):
    for _ in range(20):
        v = m + R.choice('WBGSPK')
        if model_key(v) not in MODEL_OWNER and len(v) <= 14:
            return v
    raise Reject('no suffix model')


def o_for_zero(m):
    pos = [i for i, ch in enumerate(m) if ch == '0']
    if not pos:
        raise Reject('no zero')
    i = R.choice(pos)
    v = m[:i] + 'O' + m[i + 1:]
    if model_key(v) in MODEL_OWNER:
        raise Reject('O-variant exists')
    return v


def num_one_off(n):
    for _ in range(100):
        i = R.choice(range(6, 16)) if R.random() < 0.8 else R.randrange(16)
        d = R.choice([x for x in string.digits if x != n[i]])
        v = n[:i] + d + n[i + 1:]
        if v not in CERT_BY_NUMBER:
            return v
    raise Reject('no one-off number')


def num_random(code):
    for _ in range(100):
        y = R.randint(2012, 2026)
        body = '15' if code.startswith('22') and R.random() < 0.6 else R.choice(['01', '01', '08'])
        v = '%04d%s%s%06d' % (y, body, code, R.randint(1, 999999))
        if v not in CERT_BY_NUMBER and all(sum(a != b for a, b in zip(v, x)) > 1 for x in NUM_SAMPLE):
            return v
    raise Reject('no random number')


def render_number(n, style):
    if style == 'plain':
        return n
    if style == 'spaced':
        return '%s %s %s %s' % (n[:4], n[4:8], n[8:12], n[12:])
    if style == 'hyphen':
        return '%s-%s-%s-%s' % (n[:4], n[4:6], n[6:10], n[10:])
    if style == 'fullwidth':
        return fullwidth(n)
    if style == 'fullwidth_spaced':
        return fullwidth('%s %s %s %s' % (n[:4], n[4:8], n[8:12], n[12:]), digits_only=True)
    raise ValueError(style)


CERT_LABELS = ['3C证书编号', 'CCC证书编号', '证书编号']
MODEL_LABELS = ['型号', '认证型号', '3C规格型号']
NUM_PREFIX = ['CCC证书编号：', '3C证书编号:', '3C证书编号：', 'CCC证书编号:', '证书编号：']
NONNUM_VALUES = ['已认证', '见包装', '已3C认证', '有', '见详情页', '详见产品外包装']


def item_id_for(platform):
    while True:
        if platform in ('taobao', 'tmall'):
            v = '%d%011d' % (R.choice([6, 7]), R.randrange(10 ** 11))
        elif platform == 'jd':
            v = '%d%0*d' % (1, R.choice([10, 11, 12]), R.randrange(10 ** 10))
        elif platform == '1688':
            v = '%d%011d' % (R.choice([6, 7]), R.randrange(10 ** 11))
        elif platform == 'pinduoduo':
            v = '%d%010d' % (R.choice([3, 4, 5]), R.randrange(10 ** 10))
        else:
            v = '%d%012d' % (R.choice([3, 8]), R.randrange(10 ** 12))
        if v not in USED_IDS:
            USED_IDS.add(v)
            return v


USED_IDS = set()


def url_for(platform, iid):
    return {
        'taobao': 'https://item.taobao.com/item.htm?id=%s',
        'tmall': 'https://detail.tmall.com/item.htm?id=%s',
        'jd': 'https://item.jd.com/%s.html',
        '1688': 'https://detail.1688.com/offer/%s.html',
        'pinduoduo': 'https://mobile.yangkeduo.com/goods.html?goods_id=%s',
        'douyin': 'https://haohuo.jinritemai.com/views/product/detail?id=%s',
    }[platform] % iid


def shop_url_for(platform):
    n = R.randint(10000, 99999999)
    return {
        'taobao': 'https://shop%d.taobao.com' % n, 'tmall': 'https://shop%d.tmall.com' % n,
        'jd': 'https://mall.jd.com/index-%d.html' % n, '1688': 'https://shop%d.1688.com' % n,
        'pinduoduo': 'https://mobile.yangkeduo.com/mall_page.html?mall_id=%d' % n,
        'douyin': 'https://haohuo.jinritemai.com/views/shop/index?id=%d' % n,
    }[platform]


GENERIC_SELLERS = {
    'plug': ['家家乐五金店', '惠民五金电料批发', '小城百货', '鑫鑫电器商行', '顺发电工照明'],
    'switch': ['家家乐五金店', '惠民五金电料批发', '顺发电工照明', '优品家居生活馆'],
    'appl': ['恒达电器专营店', '优品家居生活馆', '鑫鑫电器商行', '晨曦生活馆', '百汇日用百货'],
    'toy': ['佳佳母婴店', '萌趣童年玩具店', '义乌小商品批发', '童乐汇玩具批发'],
    'power': ['乐购数码', '小城百货', '极速数码配件'],
    'lamp': ['顺发电工照明', '晨曦生活馆', '小城百货'],
}
GENERIC_SELLERS = {g: [s for s in v if not text_brand_hits(s)] for g, v in GENERIC_SELLERS.items()}
GENERIC_SELLERS['nis'] = ['百汇日用百货', '小城百货', '义乌小商品批发', '晨曦生活馆']


def join_title(pieces):
    out = ''
    for p in pieces:
        if not p:
            continue
        if out:
            a, b = nfkc(out[-1]), nfkc(p[0])
            if a and b and a.isascii() and a.isalnum() and b.isascii() and b.isalnum():
                out += ' '
            elif R.random() < 0.4:
                out += ' '
        out += p
    return out


# ----------------------------------------------------------------------------- case model

def new_case(verdict, trap, code):
    return {'verdict': verdict, 'trap': trap, 'code': code, 'brand': None, 'brand_where': [],
            'brand_alias': None, 'model': None, 'model_where': [], 'model_style': 'plain',
            'numbers': [], 'nonnum': None, 'cat_only': False, 'rowexcl': False, 'status_param': False,
            'fixed_title': None, 'fixed_category': None, 'source': {}}


BRAND_WHERE_CHOICES = [(['field', 'params', 'title'], 5), (['params', 'title'], 3), (['field', 'title'], 3),
                       (['title'], 4), (['params'], 2), (['field'], 2), (['field', 'params'], 1)]


def set_brand(case, canon, where=None, alias=None):
    case['brand'] = ('brand', canon)
    case['brand_alias'] = alias
    case['brand_where'] = where or R.choices([w for w, _ in BRAND_WHERE_CHOICES], [x for _, x in BRAND_WHERE_CHOICES])[0]


MODEL_WHERE_CHOICES = [(['params:型号'], 5), (['field', 'params:型号'], 3), (['title', 'params:型号'], 4),
                       (['title'], 3), (['field'], 2), (['params:认证型号'], 1), (['params:3C规格型号'], 1),
                       (['title', 'field'], 1)]


def set_model(case, m, where=None, style=None):
    case['model'] = m
    case['model_where'] = where or R.choices([w for w, _ in MODEL_WHERE_CHOICES], [x for _, x in MODEL_WHERE_CHOICES])[0]
    if style is None:
        style = R.choices(['plain', 'lower', 'nohyphen', 'colour'], [85, 5, 4, 6])[0]
    case['model_style'] = style


NUM_WHERE_CHOICES = [('params:3C证书编号', 5), ('params:CCC证书编号', 3), ('params:证书编号', 2), ('desc', 2),
                     ('title_prefixed', 1)]


def add_number(case, n, where=None, style=None):
    if where is None:
        where = R.choices([w for w, _ in NUM_WHERE_CHOICES], [x for _, x in NUM_WHERE_CHOICES])[0]
    if style is None:
        style = 'plain' if where.startswith('title') else R.choices(
            ['plain', 'spaced', 'hyphen', 'fullwidth'], [85, 5, 5, 5])[0]
    case['numbers'].append({'num': n, 'where': where, 'style': style})


# ----------------------------------------------------------------------------- rendering

def render(case):
    code = case['code']
    grp = group_of(code) if case['fixed_title'] is None else 'nis'
    CASE_COLOUR[:] = [(R.choice(COLOURS), R.randrange(3))]
    platform = R.choice(PLATFORMS)
    iid = item_id_for(platform)
    lst = OrderedDict()
    params = OrderedDict()
    brand = case['brand']
    bw = case['brand_where']
    mw = case['model_where']
    m = case['model']

    # brand strings
    btitle = bfield = bparams = None
    if brand is not None:
        if brand[0] == 'brand':
            canon = brand[1]
            alias = case['brand_alias']
            if 'title' in bw:
                btitle = brand_form(canon, alias, 'title')
            if 'field' in bw:
                bfield = brand_form(canon, alias, 'field')
            if 'params' in bw:
                bparams = bfield if (bfield and R.random() < 0.6) else brand_form(canon, alias, 'field')
        else:
            look = brand[1]
            if 'title' in bw:
                btitle = look
            if 'field' in bw:
                bfield = look
            if 'params' in bw:
                bparams = look

    # model strings
    def mstr(title=False):
        st = case['model_style']
        if title and st == 'space':
            st = 'plain'
        return write_model(m, st)

    # numbers
    num_title = [x for x in case['numbers'] if x['where'].startswith('title')]
    num_params = [x for x in case['numbers'] if x['where'].startswith('params')]
    num_desc = [x for x in case['numbers'] if x['where'] == 'desc']

    # ---- title
    if case['fixed_title'] is not None:
        title = case['fixed_title']
    else:
        good, rowx = OK_KW[code]
        kwpool = rowx if case['rowexcl'] else good
        pieces = []
        nkw = 0 if case['cat_only'] else R.choices([1, 2, 3], [4, 4, 2])[0]
        kws = R.sample(kwpool, min(nkw, len(kwpool)))
        fills = R.sample(FILLERS[grp], min(len(FILLERS[grp]), R.randint(2, 4)))
        body = kws + fills
        R.shuffle(body)
        if kws and body[0] not in kws and R.random() < 0.6:
            body.remove(kws[0])
            body.insert(0, kws[0])
        model_piece = None
        if m is not None and 'title' in mw:
            model_piece = mstr(title=True)
        glued = None
        for x in num_title:
            digits = render_number(x['num'], x['style'])
            if x['where'] == 'title_adjacent_model':
                if model_piece is None:
                    raise Reject('adjacent model without model')
                glued = model_piece + digits
                model_piece = None
            elif x['where'] == 'title_adjacent_kw':
                if not kws:
                    raise Reject('no keyword to glue')
                k = kws[-1]
                body.remove(k)
                glued = (glued + ' ' if glued else '') + k + digits
            else:
                glued = (glued + ' ' if glued else '') + R.choice(NUM_PREFIX) + digits
        if model_piece:
            pos = R.randint(1, len(body)) if body else 0
            body.insert(pos, model_piece)
        rts = TITLE_RATINGS.get(code, [])
        rsel = R.sample(rts, min(len(rts), R.randint(0, 2)))
        pieces = ([btitle] if btitle else []) + body + rsel
        if glued:
            if R.random() < 0.5 and fills:
                pieces.append(glued)
                tail = [f for f in fills if f not in pieces[-3:] and not nfkc(f[0]).isdigit()]
                if tail:
                    pieces.append(R.choice(tail))
            else:
                pieces.append(glued)
        if btitle and R.random() < 0.15 and len(pieces) > 2:
            pieces.remove(btitle)
            pieces.insert(1, btitle)
        title = join_title(pieces)
        if R.random() < 0.06 and not num_title:
            title = fullwidth(title)
    # ---- category
    if case['fixed_category'] is not None:
        category = case['fixed_category'] or None
    elif case['cat_only']:
        category = R.choice([x for x in CATEGORIES[code] if any_keyword(x)] or CATEGORIES[code])
    elif R.random() < 0.6:
        category = R.choice(CATEGORIES.get(code, []) + [neutral_category(code)])
    else:
        category = None

    # ---- params
    if bparams:
        params['品牌'] = bparams
    for lab in MODEL_LABELS:
        if m is not None and 'params:' + lab in mw:
            params[lab] = mstr()
    if num_params:
        bylab = OrderedDict()
        for x in num_params:
            bylab.setdefault(x['where'].split(':', 1)[1], []).append(render_number(x['num'], x['style']))
        for lab, vals in bylab.items():
            params[lab] = R.choice(['；', '、', ',', ' / ']).join(vals) if len(vals) > 1 else vals[0]
    if case['nonnum']:
        params[case['nonnum'][0]] = case['nonnum'][1]
    if case['status_param'] and (num_params or case['nonnum']):
        params['证书状态'] = '有效'
    if R.random() < 0.35:
        if m is not None and R.random() < 0.3:
            params['颜色分类'] = write_model(m, 'plain') + R.choice(COLOURS)
        else:
            params['颜色分类'] = R.choice(COLOURS + ['升级款', '标准款'])
    if R.random() < 0.3 and case['fixed_title'] is None:
        if grp == 'plug':
            lab = R.choice(['线长', '插孔数'])
            params[lab] = R.choice(['1.8米', '3米', '5米'] if lab == '线长' else ['8位', '5孔', '4位'])
        elif grp == 'appl':
            params['额定功率'] = R.choice(['1800W', '2200W', '800W', '1200W'])
        elif grp == 'toy':
            params['适用年龄'] = R.choice(['3岁以上', '3-6岁', '6岁以上', '1-3岁'])
        elif grp == 'power':
            params['输出功率'] = R.choice(['20W', '30W', '65W'])
        else:
            params['产地'] = '中国大陆'

    # ---- description
    desc_parts = []
    if num_desc or R.random() < 0.55:
        opts = ['厂家直发，七天无理由退换。', '正品保障&nbsp;假一赔十&nbsp;全国联保', '支持以旧换新，送货上门。',
                '收到货有问题请联系客服。']
        desc_parts.append(R.choice(opts))
        bdesc = bfield or bparams or btitle
        if bdesc and text_brand_hits(bdesc) and (brand is None or brand[0] != 'brand'):
            bdesc = None
        if R.random() < 0.4 and (bdesc or m is not None):
            s = ''
            if bdesc:
                s += '品牌：%s' % bdesc
            if m is not None and R.random() < 0.7:
                s += ('&nbsp;&nbsp;' if s else '') + '型号：%s' % write_model(m, 'plain')
            if s:
                desc_parts.insert(0, s)
    for x in num_desc:
        desc_parts.append(R.choice(['本品已通过国家3C认证，%s%s，请放心购买。', '认证信息：%s%s。', '%s%s']) % (
            R.choice(NUM_PREFIX), render_number(x['num'], x['style'])))
    description = ' '.join(desc_parts) if desc_parts else None

    # ---- seller
    seller = None
    if R.random() < 0.8:
        if brand is not None and brand[0] == 'brand' and 'title' in bw and R.random() < 0.6:
            zh = zh_name(brand[1]) or brand[1]
            seller = zh + R.choice(['官方旗舰店', '旗舰店', '电器专营店', '京东自营旗舰店'])
        elif brand is not None and brand[0] == 'lookalike' and R.random() < 0.5 and not text_brand_hits(brand[1]):
            seller = brand[1] + '电器店'
        else:
            seller = R.choice(GENERIC_SELLERS[grp if grp in GENERIC_SELLERS else 'appl'])

    # ---- assemble with varying optional fields
    if R.random() < 0.92:
        lst['platform'] = platform
    lst['item_id'] = iid
    if R.random() < 0.85:
        lst['url'] = url_for(platform, iid)
    lst['title'] = title
    if bfield:
        lst['brand'] = bfield
    if m is not None and 'field' in mw:
        lst['model'] = mstr()
    if params:
        lst['params'] = params
    if description:
        lst['description'] = description
    if seller:
        lst['seller'] = seller
        if R.random() < 0.8:
            lst['shop_url'] = shop_url_for(platform)
    if R.random() < 0.85:
        p = round(R.uniform(5, 300) if grp in ('plug', 'switch', 'toy', 'power', 'lamp', 'nis') else R.uniform(59, 4999), 2)
        lst['price'] = p if R.random() < 0.7 else '%.2f' % p
    if category:
        lst['category'] = category
    return lst


# ----------------------------------------------------------------------------- checks and judge

def text_fields(lst):
    out = [('title', lst['title'])]
    for k in ('brand', 'model', 'description', 'seller', 'category'):
        if lst.get(k):
            out.append((k, lst[k]))
    for k, v in (lst.get('params') or {}).items():
        out.append(('params:' + k, v))
    return out


def check_case(case, lst):
    """Everything the label depends on must be readable from the rendered listing, and
    nothing else.  Raises Reject on any inconsistency."""
    title, category = lst['title'], lst.get('category')
    params = lst.get('params') or {}
    # scope under all readings
    a, b, c, d = scope_views(title, category)
    if a != c:
        raise Reject('title/category readings disagree')
    if case['rowexcl']:
        if not (a and c and not b and not d):
            raise Reject('row-exclusion case not as intended')
    elif not (a == b == c == d):
        raise Reject('per-row vs global exclusion disagree')
    in_scope = a
    if case['verdict'] == 'not_in_scope':
        if in_scope:
            raise Reject('nis case is in scope')
        return in_scope
    if not in_scope:
        raise Reject('case not in scope')
    if case['cat_only'] and any_keyword(title):
        raise Reject('cat_only title has keyword')

    # brand
    brand = case['brand']
    hits = text_brand_hits(title)
    fvals = [v for v in (lst.get('brand'), params.get('品牌')) if v]
    if brand is None:
        if hits or fvals:
            raise Reject('unintended brand')
    elif brand[0] == 'brand':
        canon = brand[1]
        want_title = 'title' in case['brand_where']
        if want_title and hits != {canon}:
            raise Reject('title brand hits %r' % hits)
        if not want_title and hits:
            raise Reject('title has brand though not intended')
        for v in fvals:
            cs, unk = field_brands(v)
            if cs != {canon} or unk:
                raise Reject('brand field %r' % v)
        if not fvals and not want_title:
            raise Reject('brand nowhere')
        if not fvals and not BRANDS[canon]['title_search']:
            raise Reject('title-only brand marked title_search=no')
    else:
        look = brand[1]
        if hits:
            raise Reject('lookalike title hits a brand')
        if not fvals:
            raise Reject('lookalike must be in brand field/params')
        for v in fvals:
            cs, unk = field_brands(v)
            if cs or unk != [look]:
                raise Reject('lookalike field %r' % v)
        if not edit1(look, brand[2]):
            raise Reject('lookalike not one edit away')
    # seller must not point at another brand than the listing's
    if lst.get('seller'):
        sh = text_brand_hits(lst['seller'])
        if sh and (brand is None or brand[0] != 'brand' or sh != {brand[1]}):
            raise Reject('seller names a brand')
    if lst.get('description'):
        dh = text_brand_hits(lst['description'])
        if dh and (brand is None or brand[0] != 'brand' or dh != {brand[1]}):
            raise Reject('description names another brand')

    # model
    m = case['model']
    mvals = [lst['model']] if lst.get('model') else []
    mvals += [params[lab] for lab in MODEL_LABELS if lab in params]
    ttoks = model_like_tokens(title)
    if len(ttoks) > 1:
        raise Reject('title has several model-like tokens %r' % ttoks)
    other_toks = []
    for k, v in text_fields(lst):
        if k in ('title', 'model') or k.startswith('params:') and k.split(':', 1)[1] in MODEL_LABELS:
            continue
        other_toks += model_like_tokens(v)
    if m is None:
        if mvals or ttoks or other_toks:
            raise Reject('unintended model')
    else:
        key = model_key(m)
        for v in mvals:
            if model_key(v) != key:
                raise Reject('model field %r' % v)
        if 'title' in case['model_where'] and not any(x['where'] == 'title_adjacent_model' for x in case['numbers']):
            if [model_key(t) for t in ttoks] != [key]:
                raise Reject('title model token %r' % ttoks)
        elif ttoks and [model_key(t) for t in ttoks] != [key]:
            raise Reject('stray title token %r' % ttoks)
        if not mvals and 'title' not in case['model_where']:
            raise Reject('model nowhere')
        for t in other_toks:
            if model_key(t) != key:
                raise Reject('other field model-like token %r' % t)

    # numbers: every 16-digit window anywhere in the texts
    wins = set()
    for _, v in text_fields(lst):
        wins |= digit_windows(v)
    cited = [x['num'] for x in case['numbers']]
    for n in cited:
        if n not in wins:
            raise Reject('cited number not readable')
    in_db = {w for w in wins if w in CERT_BY_NUMBER}
    if in_db != {n for n in cited if n in CERT_BY_NUMBER}:
        raise Reject('unintended database number in text')
    if not cited and wins:
        raise Reject('unintended 16-digit run')
    if case['nonnum'] and re.search(r'\d{16}', nfkc(case['nonnum'][1])):
        raise Reject('non-number field holds a number')
    return in_scope


def brand_state(case):
    b = case['brand']
    if b is None:
        return None
    return b


def covers(cert, case):
    b = brand_state(case)
    if b is not None:
        if b[0] == 'lookalike':
            return False
        canon = b[1]
        if canon in cert.ambig:
            raise Reject('brand/company ambiguous')
        if canon not in cert.cover:
            return False
    if case['model'] is not None and cert.models is not None:
        return model_key(case['model']) in cert.keys
    return True


def judge(case, in_scope):
    """Reference verdict from the structured intent, by the rules of the brief."""
    if not in_scope:
        return 'not_in_scope'
    if case['numbers']:
        outs = []
        for x in case['numbers']:
            c = CERT_BY_NUMBER.get(x['num'])
            if c is None:
                outs.append('cert_not_found')
            elif not covers(c, case):
                outs.append('cert_mismatch')
            else:
                outs.append(c.asof)
        best = min(RANK[o] for o in outs)
        top = sorted({o for o in outs if RANK[o] == best})
        if len(top) > 1:
            raise Reject('several different status verdicts')
        return top[0]
    if case['model'] is None:
        return 'uncertified'
    cands = [c for c in MODEL_CERTS.get(model_key(case['model']), []) if covers(c, case)]
    if any(c.asof == 'compliant' for c in cands):
        return 'compliant'
    if len(cands) > 1:
        raise Reject('several invalid covering certificates')
    if cands:
        return cands[0].asof
    return 'uncertified'


# ----------------------------------------------------------------------------- recipes

def pick(pool):
    if not pool:
        raise Reject('empty pool')
    return R.choice(pool)


def own(c):
    if c.owner in c.cover and c.owner not in c.ambig:
        return c.owner
    raise Reject('owner does not cover')


def other_brand(c, same_group=True):
    grp = group_of(c.code)
    pool = [b for b in BRANDS if b not in c.cover and b not in c.ambig and brand_forms(b)[0]
            and (not same_group or any(group_of(x) == grp for x in BRAND_CODES.get(b, [])))]
    return pick(pool)


def covering_setup(case, c, brand=True, model=True, bwhere=None, mwhere=None, mstyle=None):
    if brand:
        set_brand(case, own(c), bwhere)
    if model:
        if c.models:
            set_model(case, R.choice(c.models), mwhere, mstyle)
        else:
            set_model(case, fake_model(c.applicant), mwhere, mstyle)


def certs_where(**kw):
    out = []
    for c in CERTS:
        if not listable(c.code):
            continue
        ok = True
        for k, v in kw.items():
            if k == 'asof' and c.asof != v:
                ok = False
            elif k == 'known' and (c.models is not None) != v:
                ok = False
            elif k == 'kind' and c.kind != v:
                ok = False
            elif k == 'flavour' and c.flavour not in (v if isinstance(v, (list, tuple)) else [v]):
                ok = False
            elif k == 'style' and c.style not in (v if isinstance(v, (list, tuple)) else [v]):
                ok = False
            elif k == 'owned' and v and (c.owner not in c.cover):
                ok = False
            elif k == 'unique' and v and (c.models is None or any(len(MODEL_CERTS[x]) != 1 for x in c.keys)):
                ok = False
        if ok:
            out.append(c)
    return out


POOLS = {}


def pool(name, **kw):
    if name not in POOLS:
        POOLS[name] = certs_where(**kw)
    return POOLS[name]


def r_number_status(verdict, trap, pool_name, pool_kw, mod=None, num_where=None, num_style=None):
    def f():
        c = pick(pool(pool_name, **pool_kw))
        case = new_case(verdict, trap, c.code)
        covering_setup(case, c, model=R.random() < 0.9 or c.models is None)
        add_number(case, c.number, num_where, num_style)
        case['status_param'] = R.random() < 0.25
        if mod:
            mod(case, c)
        return case
    return f


def r_lookup(verdict, trap, pool_name, pool_kw, with_brand=True, pick_model=None):
    def f():
        c = pick(pool(pool_name, **pool_kw))
        case = new_case(verdict, trap, c.code)
        if with_brand:
            set_brand(case, own(c))
        mm = pick_model(c) if pick_model else R.choice(c.models)
        set_model(case, mm)
        return case
    return f


def recipes():
    rs = []

    def add(verdict, trap, n, fn):
        rs.append((verdict, trap, n, fn))

    valid_known = dict(asof='compliant', known=True, owned=True)

    # ------------------------------------------------------------------ compliant
    add('compliant', 'c_params_plain', 20, r_number_status('compliant', 'c_params_plain', 'vk', valid_known,
                                                           num_where='params:3C证书编号', num_style='plain'))
    add('compliant', 'c_params_label_ccc', 8, r_number_status('compliant', 'c_params_label_ccc', 'vk', valid_known,
                                                               num_where='params:CCC证书编号', num_style='plain'))
    add('compliant', 'c_number_spaced', 10, r_number_status('compliant', 'c_number_spaced', 'vk', valid_known,
                                                            num_style='spaced', num_where='params:3C证书编号'))
    add('compliant', 'c_number_hyphen', 10, r_number_status('compliant', 'c_number_hyphen', 'vk', valid_known,
                                                            num_style='hyphen', num_where='params:CCC证书编号'))
    add('compliant', 'c_number_fullwidth', 10, r_number_status('compliant', 'c_number_fullwidth', 'vk', valid_known,
                                                               num_style='fullwidth'))
    add('compliant', 'c_number_in_description', 12, r_number_status('compliant', 'c_number_in_description', 'vk',
                                                                     valid_known, num_where='desc'))
    add('compliant', 'c_number_in_title_after_text', 14, r_number_status(
        'compliant', 'c_number_in_title_after_text', 'vk', valid_known, num_where='title_adjacent_kw'))
    add('compliant', 'c_number_in_title_prefixed', 8, r_number_status(
        'compliant', 'c_number_in_title_prefixed', 'vk', valid_known, num_where='title_prefixed'))

    def glue_model(case, c):
        if case['model'] is None:
            set_model(case, R.choice(c.models))
        case['model_where'] = ['title', R.choice(['params:型号', 'field', 'params:认证型号'])]
        case['model_style'] = 'plain'
        case['numbers'][0]['where'] = 'title_adjacent_model'
        case['numbers'][0]['style'] = 'plain'
    add('compliant', 'c_number_glued_to_model', 12, r_number_status('compliant', 'c_number_glued_to_model', 'vk',
                                                                    valid_known, mod=glue_model))

    def model_style(styles, where=None):
        def mod(case, c):
            if case['model'] is None:
                set_model(case, R.choice(c.models))
            st = R.choice(styles)
            case['model_style'] = st
            if where:
                case['model_where'] = R.choice(where)
            elif st == 'space':
                case['model_where'] = [R.choice(['params:型号', 'field', 'params:认证型号', 'params:3C规格型号'])]
        return mod
    add('compliant', 'c_model_normalised', 16, r_number_status('compliant', 'c_model_normalised', 'vk', valid_known,
                                                               mod=model_style(['space', 'underscore', 'fullwidth', 'lower', 'nohyphen'])))
    add('compliant', 'c_model_colour_suffix', 14, r_number_status('compliant', 'c_model_colour_suffix', 'vk', valid_known,
                                                                  mod=model_style(['colour'])))
    add('compliant', 'c_model_in_title_only', 10, r_number_status(
        'compliant', 'c_model_in_title_only', 'vk', valid_known,
        mod=lambda case, c: (set_model(case, R.choice(c.models), ['title'], R.choice(['plain', 'plain', 'fullwidth', 'colour'])))))

    def brand_title_only(case, c):
        case['brand_where'] = ['title']
    add('compliant', 'c_brand_in_title_only', 10, r_number_status('compliant', 'c_brand_in_title_only', 'vk',
                                                                  valid_known, mod=brand_title_only))

    def brand_alias(case, c):
        al = alias_names(case['brand'][1])
        if not al:
            raise Reject('no alias')
        case['brand_alias'] = R.choice(al)
    add('compliant', 'c_brand_alias', 12, r_number_status('compliant', 'c_brand_alias', 'vk', valid_known, mod=brand_alias))
    add('compliant', 'c_brand_via_manufacturer', 10, r_number_status(
        'compliant', 'c_brand_via_manufacturer', 'vk_mfr', dict(asof='compliant', kind='mfr_only', owned=True)))
    add('compliant', 'c_brand_in_company_name', 10, r_number_status(
        'compliant', 'c_brand_in_company_name', 'vk_name', dict(asof='compliant', kind='name_contains', owned=True)))

    def shared_company():
        c = pick([x for x in pool('vk', **valid_known) if len(x.cover) > 1])
        others = sorted(b for b in c.cover if b != c.owner and b not in c.ambig and brand_forms(b)[0])
        if not others:
            raise Reject('no shared brand')
        case = new_case('compliant', 'c_brand_shared_company', c.code)
        set_brand(case, R.choice(others))
        set_model(case, R.choice(c.models))
        add_number(case, c.number)
        return case
    add('compliant', 'c_brand_shared_company', 8, shared_company)
    add('compliant', 'c_cert_models_see_attachment', 10, r_number_status(
        'compliant', 'c_cert_models_see_attachment', 'vu', dict(asof='compliant', known=False, owned=True)))

    def no_brand_no_model():
        c = pick(pool('vk', **valid_known))
        case = new_case('compliant', 'c_no_brand_no_model', c.code)
        add_number(case, c.number)
        return case
    add('compliant', 'c_no_brand_no_model', 8, no_brand_no_model)

    def model_no_brand():
        c = pick(pool('vk', **valid_known))
        case = new_case('compliant', 'c_model_without_brand', c.code)
        set_model(case, R.choice(c.models))
        add_number(case, c.number)
        return case
    add('compliant', 'c_model_without_brand', 8, model_no_brand)
    add('compliant', 'c_future_status_change', 14, r_number_status(
        'compliant', 'c_future_status_change', 'fut', dict(asof='compliant', flavour='future_change', owned=True)))
    add('compliant', 'c_expiry_on_asof', 6, r_number_status(
        'compliant', 'c_expiry_on_asof', 'bnd', dict(asof='compliant', flavour='valid_boundary', owned=True)))
    add('compliant', 'c_status_code_01', 8, r_number_status(
        'compliant', 'c_status_code_01', 'v01', dict(asof='compliant', style='code', owned=True,
                                                     flavour=['valid', 'valid_restored'])))
    add('compliant', 'c_restored_after_suspension', 5, r_number_status(
        'compliant', 'c_restored_after_suspension', 'rest', dict(asof='compliant', flavour='valid_restored', owned=True)))

    def multi_valid():
        c = pick(pool('vk', **valid_known))
        case = new_case('compliant', 'c_several_numbers_one_valid', c.code)
        covering_setup(case, c)
        extra = R.choice(['nf', 'mm', 'st'])
        nums = [c.number]
        if extra == 'nf':
            nums.append(num_one_off(c.number) if R.random() < 0.5 else num_random(c.code))
        elif extra == 'mm':
            o = pick([x for x in CERTS if case['brand'][1] not in x.cover and x.code == c.code and x.number != c.number])
            nums.append(o.number)
        else:
            same = [x for x in CERTS if x.owner == c.owner and x.applicant == c.applicant and x.asof != 'compliant'
                    and x.models and model_key(case['model']) in x.keys]
            if not same:
                o = pick([x for x in CERTS if case['brand'][1] not in x.cover and x.code == c.code])
                nums.append(o.number)
            else:
                nums.append(R.choice(same).number)
        R.shuffle(nums)
        mode = R.choice(['same', 'split'])
        for n in nums:
            if mode == 'same':
                add_number(case, n, 'params:3C证书编号', 'plain')
            else:
                add_number(case, n)
        return case
    add('compliant', 'c_several_numbers_one_valid', 14, multi_valid)
    add('compliant', 'c_nocert_lookup', 18, r_lookup('compliant', 'c_nocert_lookup', 'vk', valid_known))

    def renewed():
        ks = [k for k, cs in MODEL_CERTS.items() if len(cs) > 1 and any(c.asof == 'compliant' for c in cs)
              and any(c.asof != 'compliant' for c in cs) and all(listable(c.code) for c in cs)]
        k = pick(sorted(ks))
        cs = MODEL_CERTS[k]
        c = [x for x in cs if x.asof == 'compliant'][0]
        case = new_case('compliant', 'c_nocert_renewed_model', c.code)
        if R.random() < 0.8:
            set_brand(case, own(c))
        m = [x for x in c.models if model_key(x) == k][0]
        set_model(case, m)
        return case
    add('compliant', 'c_nocert_renewed_model', 10, renewed)
    add('compliant', 'c_nocert_model_only', 8, r_lookup('compliant', 'c_nocert_model_only', 'vk', valid_known,
                                                        with_brand=False))

    def nonnum_lookup():
        c = pick(pool('vk', **valid_known))
        case = new_case('compliant', 'c_non_number_cert_field_lookup', c.code)
        covering_setup(case, c)
        case['nonnum'] = (R.choice(CERT_LABELS), R.choice(NONNUM_VALUES + ['TRUNC']))
        if case['nonnum'][1] == 'TRUNC':
            case['nonnum'] = (case['nonnum'][0], num_truncated(c.number))
        return case
    add('compliant', 'c_non_number_cert_field_lookup', 8, nonnum_lookup)

    def cat_only(case, c):
        case['cat_only'] = True
    add('compliant', 'c_scope_from_category', 8, r_number_status('compliant', 'c_scope_from_category', 'vk',
                                                                 valid_known, mod=cat_only))

    def rowexcl():
        codes = [code for code, (g, rx) in OK_KW.items() if rx and code in CATEGORIES]
        cs = [c for c in CERTS if c.code in codes and c.asof == 'compliant' and c.models and c.owner in c.cover]
        c = pick(cs)
        case = new_case('compliant', 'c_scope_other_row_exclusion', c.code)
        case['rowexcl'] = True
        case['fixed_category'] = ''
        covering_setup(case, c)
        add_number(case, c.number)
        return case
    add('compliant', 'c_scope_other_row_exclusion', 8, rowexcl)

    # ------------------------------------------------------------------ not in scope
    for trap, n, fn in NIS_RECIPES:
        add('not_in_scope', trap, n, fn)

    # ------------------------------------------------------------------ uncertified
    def un_no_model():
        c = pick([x for x in CERTS if listable(x.code) and x.owner in x.cover])
        case = new_case('uncertified', 'u_no_model', c.code)
        set_brand(case, own(c))
        return case
    add('uncertified', 'u_no_model', 32, un_no_model)

    def un_attach():
        c = pick(pool('anyu', known=False, owned=True))
        case = new_case('uncertified', 'u_model_only_on_see_attachment_cert', c.code)
        set_brand(case, own(c))
        set_model(case, fake_model(c.applicant))
        return case
    add('uncertified', 'u_model_only_on_see_attachment_cert', 20, un_attach)

    def un_other_company():
        c = pick(pool('anyk', known=True, owned=True))
        b = other_brand(c)
        case = new_case('uncertified', 'u_model_of_other_company', c.code)
        set_brand(case, b)
        set_model(case, R.choice(c.models))
        return case
    add('uncertified', 'u_model_of_other_company', 24, un_other_company)

    def un_one_digit():
        c = pick(pool('anyk', known=True, owned=True))
        case = new_case('uncertified', 'u_model_one_digit_off', c.code)
        set_brand(case, own(c)) if R.random() < 0.85 else None
        src = R.choice(c.models)
        v = one_digit_off(src)
        case['source'] = {'model_from': src}
        set_model(case, v)
        return case
    add('uncertified', 'u_model_one_digit_off', 28, un_one_digit)

    def un_suffix():
        c = pick(pool('anyk', known=True, owned=True))
        case = new_case('uncertified', 'u_model_extra_letter', c.code)
        set_brand(case, own(c))
        src = R.choice(c.models)
        case['source'] = {'model_from': src}
        set_model(case, letter_suffix(src))
        return case
    add('uncertified', 'u_model_extra_letter', 10, un_suffix)

    def un_look():
        c = pick(pool('vk', **valid_known))
        lk = lookalike(own(c))
        if not lk:
            raise Reject('no lookalike')
        case = new_case('uncertified', 'u_lookalike_brand', c.code)
        case['brand'] = ('lookalike', lk[1], c.owner)
        case['brand_where'] = R.choice([['field'], ['params'], ['field', 'params']]) + (['title'] if lk[0] == 'sub' and R.random() < 0.6 else [])
        set_model(case, R.choice(c.models))
        return case
    add('uncertified', 'u_lookalike_brand', 20, un_look)

    def un_unknown():
        c = pick([x for x in CERTS if listable(x.code) and x.owner in x.cover])
        case = new_case('uncertified', 'u_unknown_model', c.code)
        set_brand(case, own(c))
        set_model(case, fake_model(c.applicant))
        return case
    add('uncertified', 'u_unknown_model', 24, un_unknown)

    def un_nonnum():
        c = pick([x for x in CERTS if listable(x.code) and x.owner in x.cover])
        case = new_case('uncertified', 'u_non_number_cert_field', c.code)
        set_brand(case, own(c))
        if R.random() < 0.6:
            set_model(case, fake_model(c.applicant))
        v = R.choice(NONNUM_VALUES + ['TRUNC', 'TRUNC'])
        case['nonnum'] = (R.choice(CERT_LABELS), num_truncated(c.number) if v == 'TRUNC' else v)
        return case
    add('uncertified', 'u_non_number_cert_field', 24, un_nonnum)

    def un_nobrand():
        c = pick([x for x in CERTS if listable(x.code)])
        case = new_case('uncertified', 'u_no_brand_unknown_model', c.code)
        set_model(case, fake_model(c.applicant))
        return case
    add('uncertified', 'u_no_brand_unknown_model', 10, un_nobrand)

    # ------------------------------------------------------------------ cert_not_found
    def nf(trap, gen, where=None, style=None, n_numbers=1):
        def f():
            c = pick(pool('anyk', known=True, owned=True))
            case = new_case('cert_not_found', trap, c.code)
            covering_setup(case, c, brand=R.random() < 0.9, model=R.random() < 0.85)
            srcs = []
            for _ in range(n_numbers):
                if gen == 'off':
                    v = num_one_off(c.number)
                    srcs.append(c.number)
                elif gen == 'rand':
                    v = num_random(c.code)
                else:
                    v = num_one_off(c.number) if R.random() < 0.5 else num_random(c.code)
                    if v[:6] == c.number[:6]:
                        srcs.append(c.number)
                add_number(case, v, where, style)
            case['source'] = {'numbers_from': srcs}
            return case
        return f
    add('cert_not_found', 'nf_one_digit_off', 42, nf('nf_one_digit_off', 'off'))
    add('cert_not_found', 'nf_random_number', 26, nf('nf_random_number', 'rand'))
    add('cert_not_found', 'nf_fullwidth', 10, nf('nf_fullwidth', 'mix', style='fullwidth'))
    add('cert_not_found', 'nf_spaced_or_hyphen', 14, nf('nf_spaced_or_hyphen', 'mix', where='params:3C证书编号',
                                                         style=None))
    add('cert_not_found', 'nf_in_title', 14, nf('nf_in_title', 'mix', where='title_adjacent_kw'))
    add('cert_not_found', 'nf_in_description', 10, nf('nf_in_description', 'mix', where='desc'))
    add('cert_not_found', 'nf_several_numbers', 10, nf('nf_several_numbers', 'mix', n_numbers=2))

    # ------------------------------------------------------------------ cert_mismatch
    def mm_other(trap, where=None):
        def f():
            c = pick(pool('anyk', known=True, owned=True))
            b = other_brand(c, same_group=R.random() < 0.8)
            case = new_case('cert_mismatch', trap, c.code)
            set_brand(case, b, where)
            x = R.random()
            if x < 0.6:
                set_model(case, R.choice(c.models))
            elif x < 0.8:
                oc = [y for y in CERTS if y.owner == b and y.models and b in y.cover]
                if oc:
                    set_model(case, R.choice(R.choice(oc).models))
            add_number(case, c.number)
            return case
        return f
    add('cert_mismatch', 'mm_brand_of_other_company', 40, mm_other('mm_brand_of_other_company'))
    add('cert_mismatch', 'mm_other_brand_in_title_only', 14, mm_other('mm_other_brand_in_title_only', ['title']))

    def mm_look():
        c = pick(pool('anyk', known=True, owned=True))
        lk = lookalike(own(c))
        if not lk:
            raise Reject('no lookalike')
        case = new_case('cert_mismatch', 'mm_lookalike_brand', c.code)
        case['brand'] = ('lookalike', lk[1], c.owner)
        case['brand_where'] = R.choice([['field'], ['params'], ['field', 'params']]) + (['title'] if lk[0] == 'sub' and R.random() < 0.6 else [])
        if R.random() < 0.85:
            set_model(case, R.choice(c.models))
        add_number(case, c.number)
        return case
    add('cert_mismatch', 'mm_lookalike_brand', 25, mm_look)

    def mm_model(trap, fn):
        def f():
            c = pick(pool('anyk', known=True, owned=True))
            case = new_case('cert_mismatch', trap, c.code)
            set_brand(case, own(c)) if R.random() < 0.9 else None
            src = R.choice(c.models)
            v = fn(src, c)
            case['source'] = {'model_from': src}
            set_model(case, v, style=R.choice(['plain', 'plain', 'plain', 'colour']))
            add_number(case, c.number)
            return case
        return f
    add('cert_mismatch', 'mm_model_one_digit_off', 30, mm_model('mm_model_one_digit_off', lambda s, c: one_digit_off(s)))
    add('cert_mismatch', 'mm_model_extra_letter', 14, mm_model('mm_model_extra_letter', lambda s, c: letter_suffix(s)))
    add('cert_mismatch', 'mm_model_letter_o_for_zero', 8, mm_model('mm_model_letter_o_for_zero', lambda s, c: o_for_zero(s)))

    def other_cert_model(s, c):
        same = [m for x in CERTS if x.applicant == c.applicant and x.models and x.number != c.number
                for m in x.models if model_key(m) not in c.keys]
        return pick(same)
    add('cert_mismatch', 'mm_model_on_other_cert_same_company', 24,
        mm_model('mm_model_on_other_cert_same_company', other_cert_model))

    def foreign_model(s, c):
        o = pick([x for x in CERTS if x.applicant != c.applicant and x.models and x.code == c.code])
        return R.choice(o.models)
    add('cert_mismatch', 'mm_model_of_other_company', 14, mm_model('mm_model_of_other_company', foreign_model))

    def mm_factory():
        c = pick([x for x in CERTS if x.kind == 'factory_only' and x.models and listable(x.code)])
        if c.owner in c.cover or c.owner in c.ambig:
            raise Reject('factory brand covers')
        case = new_case('cert_mismatch', 'mm_brand_company_only_factory', c.code)
        set_brand(case, c.owner)
        set_model(case, R.choice(c.models))
        add_number(case, c.number)
        return case
    add('cert_mismatch', 'mm_brand_company_only_factory', 6, mm_factory)

    def mm_multi():
        case = mm_other('mm_several_numbers_mismatch_and_unknown')()
        c = CERT_BY_NUMBER[case['numbers'][0]['num']]
        add_number(case, num_one_off(c.number) if R.random() < 0.5 else num_random(c.code))
        R.shuffle(case['numbers'])
        return case
    add('cert_mismatch', 'mm_several_numbers_mismatch_and_unknown', 14, mm_multi)

    # ------------------------------------------------------------------ status verdicts
    def st_multi(verdict, trap, poolname, kw):
        def f():
            case = r_number_status(verdict, trap, poolname, kw)()
            c = CERT_BY_NUMBER[case['numbers'][0]['num']]
            if R.random() < 0.5:
                add_number(case, num_one_off(c.number))
            else:
                b = case['brand'][1] if case['brand'] else None
                o = pick([x for x in CERTS if x.code == c.code and b and b not in x.cover and b not in x.ambig])
                add_number(case, o.number)
            R.shuffle(case['numbers'])
            return case
        return f

    def st_lookup(verdict, trap, kw):
        return r_lookup(verdict, trap, 'uniq_' + verdict, dict(kw, unique=True, owned=True))

    def st_attach(verdict, trap):
        return r_number_status(verdict, trap, 'att_' + verdict, dict(asof=verdict, known=False, owned=True))

    add('expired', 'ex_status_word', 14, r_number_status('expired', 'ex_status_word', 'ex_w', dict(
        asof='expired', flavour='expired_status', style='word', owned=True)))
    add('expired', 'ex_status_note_or_code', 9, r_number_status('expired', 'ex_status_note_or_code', 'ex_c', dict(
        asof='expired', flavour='expired_status', style=['code', 'note'], owned=True)))
    add('expired', 'ex_valid_word_but_past_expiry', 14, r_number_status(
        'expired', 'ex_valid_word_but_past_expiry', 'ex_d', dict(asof='expired', flavour=['expired_date'], owned=True)))
    add('expired', 'ex_expiry_day_before_asof', 4, r_number_status(
        'expired', 'ex_expiry_day_before_asof', 'ex_b', dict(asof='expired', flavour=['expired_date_boundary'], owned=True)))
    add('expired', 'ex_suspended_but_past_expiry', 7, r_number_status(
        'expired', 'ex_suspended_but_past_expiry', 'ex_s', dict(asof='expired', flavour='suspended_past_expiry', owned=True)))
    add('expired', 'ex_nocert_lookup', 10, st_lookup('expired', 'ex_nocert_lookup', dict(asof='expired')))
    add('expired', 'ex_several_numbers', 5, st_multi('expired', 'ex_several_numbers', 'ex_any', dict(asof='expired', owned=True)))
    add('expired', 'ex_cert_models_see_attachment', 4, st_attach('expired', 'ex_cert_models_see_attachment'))

    add('suspended', 'su_status_word', 18, r_number_status('suspended', 'su_status_word', 'su_w', dict(
        asof='suspended', style='word', owned=True)))
    add('suspended', 'su_status_with_note', 14, r_number_status('suspended', 'su_status_with_note', 'su_n', dict(
        asof='suspended', style='note', owned=True)))
    add('suspended', 'su_status_code_02', 9, r_number_status('suspended', 'su_status_code_02', 'su_c', dict(
        asof='suspended', style='code', owned=True)))
    add('suspended', 'su_change_dated_on_asof', 4, r_number_status('suspended', 'su_change_dated_on_asof', 'su_a', dict(
        asof='suspended', flavour='suspended_on_asof', owned=True)))
    add('suspended', 'su_nocert_lookup', 10, st_lookup('suspended', 'su_nocert_lookup', dict(asof='suspended')))
    add('suspended', 'su_several_numbers', 6, st_multi('suspended', 'su_several_numbers', 'su_any', dict(asof='suspended', owned=True)))
    add('suspended', 'su_cert_models_see_attachment', 3, st_attach('suspended', 'su_cert_models_see_attachment'))

    for v, p in (('revoked', 'rv'), ('cancelled', 'ca')):
        code = STATUS_CODE[v]
        add(v, '%s_status_word' % p, 18, r_number_status(v, '%s_status_word' % p, p + '_w', dict(
            asof=v, style='word', flavour=v, owned=True)))
        add(v, '%s_status_with_note' % p, 10, r_number_status(v, '%s_status_with_note' % p, p + '_n', dict(
            asof=v, style='note', owned=True)))
        add(v, '%s_status_code_%s' % (p, code), 8, r_number_status(v, '%s_status_code_%s' % (p, code), p + '_c', dict(
            asof=v, style='code', owned=True)))
        add(v, '%s_past_expiry_stays_%s' % (p, v), 8, r_number_status(v, '%s_past_expiry_stays_%s' % (p, v), p + '_p', dict(
            asof=v, flavour=v + '_past_expiry', owned=True)))
        add(v, '%s_nocert_lookup' % p, 10, st_lookup(v, '%s_nocert_lookup' % p, dict(asof=v)))
        add(v, '%s_several_numbers' % p, 6, st_multi(v, '%s_several_numbers' % p, p + '_any', dict(asof=v, owned=True)))
    return rs


def num_truncated(n):
    i = R.randrange(16)
    return n[:i] + n[i + 1:] if R.random() < 0.5 else n[:15]


# ----------------------------------------------------------------------------- not in scope

NIS_NO_KEYWORD = [
    ('手机壳 适用苹果15 硅胶 防摔 全包', '手机配件>手机壳'), ('保温杯 316不锈钢 大容量 男女学生 便携', '居家日用>水杯'),
    ('纯棉T恤 男 短袖 夏季 宽松', '男装>T恤'), ('加厚 床单 单件 学生宿舍 纯色', '家纺>床单'),
    ('雨伞 全自动 折叠 晴雨两用 加大', '居家日用>雨伞'), ('拖鞋 女 夏 室内 防滑 静音', '鞋>拖鞋'),
    ('陶瓷马克杯 带盖勺 办公室 情侣', '居家日用>杯子'), ('书包 小学生 护脊 减负 大容量', '箱包>书包'),
    ('数据线 Type-C 快充 1米 编织', '数码>数据线'), ('电动牙刷 声波 充电式 软毛 成人', '个护健康>电动牙刷'),
    ('蓝牙耳机 无线 降噪 运动 超长续航', '数码>耳机'), ('电子秤 家用 小型 体重秤 精准', '个护健康>体重秤'),
    ('无线鼠标 静音 办公 笔记本 通用', '电脑外设>鼠标'), ('机械键盘 青轴 电竞 游戏', '电脑外设>键盘'),
    ('拼图 1000片 成人 解压 风景', '玩具>拼图'), ('跳绳 儿童 计数 小学生 体育', '运动>跳绳'),
    ('瑜伽垫 加厚 防滑 家用 健身', '运动>瑜伽垫'), ('晾衣架 落地 折叠 室内 阳台', '居家日用>晾衣架'),
    ('收纳箱 塑料 特大号 衣服整理箱', '居家日用>收纳'), ('垃圾桶 家用 带盖 厨房 卫生间', '居家日用>垃圾桶'),
    ('象棋 实木 大号 折叠棋盘', '文体>棋类'), ('笔记本 A5 加厚 本子 学生', '文具>本册'),
    ('加湿器 家用 静音 卧室 大雾量', '生活电器>加湿器'), ('智能手表 运动 心率 防水', '数码>智能手表'),
    ('U盘 64G 高速 金属 车载', '数码>U盘'), ('颈椎按摩器 肩颈 按摩仪 家用', '个护健康>按摩器'),
]
NIS_BRANDED = [('小米', '保温杯 大容量 便携 学生'), ('得力', '笔记本 A5 加厚 学生本子'), ('公牛', '数据线 Type-C 快充 1米'),
               ('绿联', '数据线 Type-C 快充 编织'), ('华为', '蓝牙耳机 无线 降噪'), ('飞利浦', '电动牙刷 声波 充电式'),
               ('小米', '电动牙刷 声波 软毛'), ('美的', '加湿器 家用 静音 卧室'), ('乐高', '拼图 儿童 益智')]
NIS_EXCLUDED = {
    'nis_socket_cover': [('插座保护盖 儿童防触电 安全塞 婴儿宝宝 %s个装', '母婴>安全防护'),
                         ('宝宝防触电插座保护盖 插孔保护塞 %s只装', '母婴>安全防护'),
                         ('插座防护盖 卫生间 防水 插座防水盒 %s', '家装主材>电工电料>插座配件')],
    'nis_storage_box': [('插线板收纳盒 理线盒 桌面 电线收纳 %s', '居家日用>收纳整理'),
                        ('排插收纳盒 集线盒 大号 防尘 %s', '居家日用>收纳整理')],
    'nis_rice_cooker_inner_pot': [('电饭煲内胆 通用 不粘 %s 加厚', '厨房小电>电饭煲配件'),
                                  ('适用美的 电饭煲内胆 4L 原装 %s', '厨房小电>电饭煲配件'),
                                  ('电饭锅内胆 3L 5L 不粘锅 替换 %s', '')],
    'nis_kettle_brush': [('电热水壶 水壶刷 长柄 清洁刷 除垢 %s', '居家日用>清洁刷'),
                         ('烧水壶 清洁 水壶刷 海绵 %s', '')],
    'nis_toy_storage': [('儿童玩具收纳箱 大容量 积木收纳盒 %s', '居家日用>收纳整理'),
                        ('乐高积木收纳盒 分格 玩具收纳架 %s', '居家日用>收纳整理'),
                        ('玩具收纳筐 积木收纳袋 布艺 %s', '')],
    'nis_phone_case': [('卡通公仔 手机壳 适用苹果 硅胶 %s', '手机配件>手机壳'), ('毛绒玩偶 手机壳 可爱 %s', ''),
                       ('充电宝 手机壳 背夹 %s', '手机配件>手机壳')],
    'nis_compatible_accessory': [('适用于小米 插座 配件 %s', ''), ('适用于公牛 插线板 替换 开关按钮 %s', ''),
                                 ('适用于美的 电饭煲 配件 蒸架 %s', ''), ('适用于九阳 豆浆机 配件 刀头 %s', '')],
    'nis_other_accessory': [('空调罩 防尘罩 挂机 %s', '家居日用>防尘罩'), ('冰箱贴 磁贴 创意 %s', ''),
                            ('洗衣机底座 托架 移动 %s', ''), ('风扇罩 防护罩 儿童防夹手 %s', ''),
                            ('婴儿推车雨罩 推车防风罩 %s', '童车配件'), ('吸尘器尘袋 集尘袋 通用 %s', ''),
                            ('空气炸锅纸 烤盘纸 吸油纸 %s张', '厨房用品>烘焙'), ('娃娃衣服 换装 娃娃鞋 %s', ''),
                            ('台灯罩 布艺 灯罩 %s', ''), ('电磁炉垫 隔热垫 硅胶 %s', ''),
                            ('热水器支架 电热水器挂架 %s', ''), ('剃须刀片 替换刀头 %s', ''),
                            ('遥控车电池 遥控车轮胎 配件 %s', '')],
}


def nis_recipe(trap):
    def f():
        case = new_case('not_in_scope', trap, '0201')
        if trap == 'nis_no_catalog_keyword':
            if R.random() < 0.35:
                b, t = R.choice(NIS_BRANDED)
                case['fixed_title'] = brand_form(b, where='title') + ' ' + t
                case['fixed_category'] = ''
                case['brand'] = ('brand', b)
                case['brand_where'] = ['title']
            else:
                t, cat = R.choice(NIS_NO_KEYWORD)
                case['fixed_title'] = t
                case['fixed_category'] = cat if R.random() < 0.6 else ''
        elif trap == 'nis_with_valid_cert_number':
            c = pick(pool('vk', asof='compliant', known=True, owned=True))
            tl = [x for k in ('nis_socket_cover', 'nis_rice_cooker_inner_pot', 'nis_kettle_brush', 'nis_other_accessory')
                  for x in NIS_EXCLUDED[k]]
            t, cat = R.choice(tl)
            case['fixed_title'] = t % R.choice(['', '通用', '加厚', '新款'])
            case['fixed_category'] = cat
            add_number(case, c.number, R.choice(['params:3C证书编号', 'desc']))
        else:
            t, cat = R.choice(NIS_EXCLUDED[trap])
            case['fixed_title'] = t % R.choice(['', '通用', '加厚', '新款', '10个装', '2只装', '家用'])
            case['fixed_category'] = cat
        case['fixed_title'] = re.sub(r'\s+', ' ', case['fixed_title']).strip()
        if R.random() < 0.3:
            case['fixed_title'] = case['fixed_title'].replace(' ', '')
        return case
    return f


NIS_RECIPES = [('nis_no_catalog_keyword', 40, nis_recipe('nis_no_catalog_keyword')),
               ('nis_socket_cover', 14, nis_recipe('nis_socket_cover')),
               ('nis_storage_box', 10, nis_recipe('nis_storage_box')),
               ('nis_rice_cooker_inner_pot', 14, nis_recipe('nis_rice_cooker_inner_pot')),
               ('nis_kettle_brush', 10, nis_recipe('nis_kettle_brush')),
               ('nis_toy_storage', 14, nis_recipe('nis_toy_storage')),
               ('nis_phone_case', 10, nis_recipe('nis_phone_case')),
               ('nis_compatible_accessory', 12, nis_recipe('nis_compatible_accessory')),
               ('nis_other_accessory', 18, nis_recipe('nis_other_accessory')),
               ('nis_with_valid_cert_number', 10, nis_recipe('nis_with_valid_cert_number'))]


# ----------------------------------------------------------------------------- main

CERTS = []
CERT_BY_NUMBER = {}
NUM_SAMPLE = []


def generate():
    global CERTS, CERT_BY_NUMBER, NUM_SAMPLE
    CERTS = build_certificates()
    CERT_BY_NUMBER = {c.number: c for c in CERTS}
    NUM_SAMPLE = [c.number for c in CERTS]
    out = []
    skipped = Counter()
    reasons = Counter()
    for verdict, trap, n, fn in recipes():
        made, tries = 0, 0
        while made < n and tries < n * 60:
            tries += 1
            try:
                case = fn()
                lst = render(case)
                in_scope = check_case(case, lst)
                got = judge(case, in_scope)
                if got != verdict:
                    raise Reject('judged %s, intended %s' % (got, verdict))
            except Reject as e:
                reasons[str(e).split(' %')[0][:40]] += 1
                skipped[trap] += 1
                continue
            case['listing'] = lst
            out.append(case)
            made += 1
        if made < n:
            print('WARNING: %s made %d of %d' % (trap, made, n), file=sys.stderr)
    R.shuffle(out)
    return out, skipped, reasons


def write_outputs(cases):
    with open(OUT_CERTS, 'w', encoding='utf-8-sig', newline='') as f:
        w = csv.writer(f, lineterminator='\r\n')
        w.writerow(CERT_HEADER)
        for c in CERTS:
            w.writerow(c.row())
    with open(OUT_LISTINGS, 'w', encoding='utf-8', newline='\n') as f:
        for case in cases:
            f.write(json.dumps(case['listing'], ensure_ascii=False) + '\n')
    with open(OUT_LABELS, 'w', encoding='utf-8', newline='') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(['item_id', 'verdict', 'trap'])
        for case in cases:
            w.writerow([case['listing']['item_id'], case['verdict'], case['trap']])


# ----------------------------------------------------------------------------- invariants

def hamming(a, b):
    return sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b))


def check_invariants(cases):
    errors = []

    def req(cond, msg):
        if not cond:
            errors.append(msg)

    # certificates
    nums = [c.number for c in CERTS]
    req(len(nums) == len(set(nums)), 'duplicate certificate numbers')
    owners = {}
    for c in CERTS:
        req(re.fullmatch(r'\d{16}', c.number) is not None, 'bad number %s' % c.number)
        req(2012 <= int(c.number[:4]) <= 2026, 'bad year %s' % c.number)
        req(c.number[6:10] == c.code and c.code in CAT, 'bad code %s' % c.number)
        req(c.number[4:6] in BODIES, 'bad body %s' % c.number)
        req(int(c.number[:4]) == c.initial.year, 'year != initial %s' % c.number)
        req(c.initial <= c.issue <= ASOF, 'issue dates %s' % c.number)
        req(STATUS_PARSE.get(re.split(r'[（(]', c.status_text)[0]) == c.status, 'status text %s' % c.number)
        if c.models is None:
            req(c.model_text == '见附件', 'attachment text')
        else:
            req(c.model_text != '见附件', 'known list shown as attachment')
            for m in c.models:
                req(valid_model_shape(m) is not None and bool(valid_model_shape(m)), 'model shape %s' % m)
                req(m in c.model_text, 'model %s not in text' % m)
                k = model_key(m)
                req(owners.setdefault(k, c.applicant) == c.applicant, 'model %s on two companies' % m)
    share = sum(1 for c in CERTS if c.models is None) / len(CERTS)
    req(0.03 <= share <= 0.08, 'see-attachment share %.3f' % share)

    # listings
    ids = [c['listing']['item_id'] for c in cases]
    req(len(ids) == len(set(ids)), 'duplicate item ids')
    req(len(cases) >= 1200, 'only %d listings' % len(cases))
    for case in cases:
        lst, v, t = case['listing'], case['verdict'], case['trap']
        nums = [x['num'] for x in case['numbers']]
        if v == 'cert_not_found':
            req(nums and all(n not in CERT_BY_NUMBER for n in nums), 'nf with known number %s' % lst['item_id'])
        if t == 'nf_one_digit_off':
            for n, s in zip(nums, case['source']['numbers_from']):
                req(hamming(n, s) == 1 and s in CERT_BY_NUMBER, 'one-digit-off number %s' % lst['item_id'])
        if t in ('u_model_one_digit_off', 'mm_model_one_digit_off'):
            s, m = case['source']['model_from'], case['model']
            req(len(s) == len(m) and hamming(s, m) == 1, 'one-digit model %s' % lst['item_id'])
            diff = [(a, b) for a, b in zip(s, m) if a != b]
            req(all(a.isdigit() and b.isdigit() for a, b in diff), 'not a digit change %s' % lst['item_id'])
            req(model_key(m) not in MODEL_CERTS, 'one-digit model exists %s' % lst['item_id'])
        if t in ('u_model_extra_letter', 'mm_model_extra_letter', 'mm_model_letter_o_for_zero'):
            req(model_key(case['model']) != model_key(case['source']['model_from'])
                and model_key(case['model']) not in MODEL_CERTS, 'letter variant %s' % lst['item_id'])
        if 'lookalike' in t:
            look, canon = case['brand'][1], case['brand'][2]
            req(edit1(look, canon) and fold(look) not in NAME_EXACT, 'lookalike %s' % lst['item_id'])
        if v == 'cert_mismatch':
            for n in nums:
                c = CERT_BY_NUMBER.get(n)
                if c is not None:
                    req(not covers(c, case), 'mismatch number covers %s' % lst['item_id'])
        if v in STATUS_VERDICTS and not nums:
            cands = [c for c in MODEL_CERTS.get(model_key(case['model']), []) if covers(c, case)]
            req(len(cands) == 1 and cands[0].asof == v, 'lookup status %s' % lst['item_id'])
        if v == 'uncertified':
            req(not nums, 'uncertified with number %s' % lst['item_id'])
            if case['model'] is not None:
                req(not [c for c in MODEL_CERTS.get(model_key(case['model']), []) if covers(c, case)],
                    'uncertified but covered %s' % lst['item_id'])
        if case['nonnum']:
            req(not digit_windows(case['nonnum'][1]), 'non-number holds 16 digits %s' % lst['item_id'])
        if v == 'compliant' and nums:
            req(any(n in CERT_BY_NUMBER and CERT_BY_NUMBER[n].asof == 'compliant' and covers(CERT_BY_NUMBER[n], case)
                    for n in nums), 'compliant without valid covering cert %s' % lst['item_id'])
        if t == 'c_future_status_change':
            c = CERT_BY_NUMBER[nums[0]]
            req(c.status != 'valid' and c.change_date > ASOF, 'future change %s' % lst['item_id'])
        title_toks = model_like_tokens(lst['title'])
        req(len(title_toks) <= 1, 'title tokens %s' % lst['item_id'])
        req(set(lst) <= {'platform', 'item_id', 'url', 'title', 'brand', 'model', 'params', 'description',
                         'seller', 'shop_url', 'price', 'category'}, 'unknown field')
    # read back the files
    with open(OUT_CERTS, 'rb') as f:
        raw = f.read()
    req(raw.startswith(b'\xef\xbb\xbf'), 'certificates.csv lacks BOM')
    rows = list(csv.reader(io.StringIO(raw.decode('utf-8-sig'))))
    req(rows[0] == CERT_HEADER, 'certificate header')
    req(len(rows) - 1 == len(CERTS), 'certificate row count')
    with open(OUT_LISTINGS, encoding='utf-8') as f:
        back = [json.loads(line) for line in f]
    with open(OUT_LABELS, encoding='utf-8') as f:
        labels = list(csv.DictReader(f))
    req([b['item_id'] for b in back] == [lab['item_id'] for lab in labels], 'labels not aligned')
    req(all(lab['verdict'] in VERDICTS for lab in labels), 'unknown verdict')
    if errors:
        for e in errors[:50]:
            print('INVARIANT FAILED:', e, file=sys.stderr)
        raise SystemExit('%d invariant failures' % len(errors))


# ----------------------------------------------------------------------------- README

TRAP_DOC = {
    'c_': 'compliant', 'nis_': 'not_in_scope', 'u_': 'uncertified', 'nf_': 'cert_not_found',
    'mm_': 'cert_mismatch', 'ex_': 'expired', 'su_': 'suspended', 'rv_': 'revoked', 'ca_': 'cancelled'}


def write_readme(cases, skipped):
    vc = Counter(c['verdict'] for c in cases)
    tc = Counter((c['verdict'], c['trap']) for c in cases)
    cs = Counter(c.asof for c in CERTS)
    n = len(cases)
    L_ = []
    a = L_.append
    a('# cccwatch development set')
    a('')
    a('Independent, labelled development set for measuring the listing matcher. Generated by')
    a('`generate.py` (Python 3, standard library only, seed %d, deterministic) from' % SEED)
    a('`certdb/brands.csv` and `tests/devset/catalog_2026-11.csv` (the keyword catalog of 2026-11, kept as this set\'s input). Re-run with `python3 tests/devset/generate.py`.')
    a('')
    a('**As-of date: %s.** All verdicts are the status on that date.' % ASOF.isoformat())
    a('')
    a('## Files')
    a('')
    a('| file | content |')
    a('|---|---|')
    a('| `certificates.csv` | %d certificates, UTF-8 with BOM, official export headers |' % len(CERTS))
    a('| `listings.jsonl` | %d platform listings, one JSON object per line |' % n)
    a('| `labels.csv` | `item_id,verdict,trap` for every listing (same order) |')
    a('| `generate.py` | generator + checker |')
    a('')
    a('## Rules applied (the labels implement exactly these)')
    a('')
    a('1. **Scope.** In scope when the title or the category contains a keyword of a catalog row and no')
    a('   exclusion word *of that row*. Listings where the reading matters (exclusions of other rows, e.g.')
    a('   `底盒` is a 0201 exclusion but a 0206 keyword; `充电宝` is a 0907 exclusion but a 0914 keyword)')
    a('   appear only under trap `c_scope_other_row_exclusion`; every other listing gets the same scope')
    a('   whether exclusions are read per row or globally, and whether title and category are read')
    a('   together or separately.')
    a('2. **Numbers.** A cited number is 16 digits (plain, grouped by spaces/hyphens, full-width, after a')
    a('   label, glued to text or to a model in the title) in params, title or description. A field value')
    a('   that is not a 16-digit number (`已认证`, `见包装`, a 15-digit truncated number) cites nothing.')
    a('3. **Per number:** not in certificates.csv -> `cert_not_found` (one-digit-off numbers included);')
    a('   in it but not covering -> `cert_mismatch`; covering -> status on the as-of date.')
    a('4. **Covering.** (a) The identified brand (brand field, params 品牌, or a brands.csv name/alias in')
    a('   the title) belongs to the applicant or manufacturer (brands.csv companies, or brand name contained')
    a('   in the company name); the factory (生产企业名称) does not count; an unknown look-alike brand never')
    a('   covers. (b) Where both the listing model and the certificate list are known (not `见附件`), the')
    a('   model is on the list after normalising width, case, spaces, hyphens, underscores and a Chinese')
    a('   colour suffix. No brand identified -> (a) holds; no model -> (b) holds.')
    a('5. **Status on %s:** a change dated after the as-of date has not applied (valid then).' % ASOF.isoformat())
    a('   revoked/cancelled stay; expired if status 过期失效/05 or expiry date < as-of; then suspended;')
    a('   else compliant (expiry >= as-of, so expiry on the as-of date is compliant).')
    a('6. **Several numbers:** best outcome wins: compliant > status verdict > cert_mismatch > cert_not_found.')
    a('   No listing has two different status verdicts.')
    a('7. **No number:** certificates covering brand + model (model on a known list). Any valid -> compliant;')
    a('   else exactly one invalid certificate -> its status; none (incl. no model) -> `uncertified`.')
    a('')
    a('Generation guarantees checked per listing (a failing case is regenerated, never kept): exactly the')
    a('intended brand is findable (substring search of every brands.csv name in the title, exact parts of')
    a('brand fields); titles hold at most one model-like token besides ratings; all model sources agree;')
    a('every 16-digit window of every digit run (runs joined over single spaces/hyphens) in any text field')
    a('is either an intended number or absent from certificates.csv; listings that cite nothing have no')
    a('16-digit run at all. Models are unique to one applicant company; models of the same company may')
    a('appear on an old lapsed and a newer certificate (renewals).')
    a('')
    a('## Interpretations (where the brief left room)')
    a('')
    a('- Exclusion words apply to their own catalog row (see rule 1); only `c_scope_other_row_exclusion`')
    a('  depends on it.')
    a('- Before a change dated after the as-of date the certificate counts as valid (`c_future_status_change`);')
    a('  a change dated on the as-of date applies (`su_change_dated_on_asof`).')
    a('- Suspended with an expiry date before the as-of date is `expired` (the expiry rule wins over')
    a('  suspension; only revoked/cancelled stay).')
    a('- A cited certificate with no brand and no model identifiable on the listing covers it')
    a('  (`c_no_brand_no_model`): nothing contradicts it.')
    a('- Brand sources (brand field, params 品牌, title) never conflict within a listing; a look-alike brand')
    a('  is given in the brand field/params, and in the title only when it does not contain the real name')
    a('  (`公午` yes, `乐高高` no). `适用于<brand>` appears only in not-in-scope accessory titles.')
    a('- Model sources (model field, params 型号/认证型号/3C规格型号, title token) never conflict; 颜色分类 is')
    a('  not a model source (when it carries a model, it is the same one). When a number is glued to the')
    a('  model in the title, the model is also in params/model field.')
    a('- Brands marked `title_search=no` in brands.csv (common words: %s) are never identifiable from' %
      '、'.join(c for c, x in BRANDS.items() if not x['title_search']))
    a('  the title alone: such a listing always also carries the brand in the brand field or params, so the')
    a('  label is the same whether or not a matcher searches titles for them.')
    a('- Scope also agrees under a title-first reading (a title with any catalog keyword decides alone).')
    a('- O-for-0 (`GN-H3O50`) and an added letter (`GN-H3050W`) are different models.')
    a('- Only the applicant (认证委托人) and manufacturer (生产者) count for the brand, never the factory')
    a('  (`mm_brand_company_only_factory`).')
    a('')
    a('Trap prefixes: `c_` compliant, `nis_` not_in_scope, `u_` uncertified, `nf_` cert_not_found,')
    a('`mm_` cert_mismatch, `ex_` expired, `su_` suspended, `rv_` revoked, `ca_` cancelled.')
    a('')
    a('## Certificates')
    a('')
    a('Status on the as-of date: ' + ', '.join('%s %d' % (k, cs[k]) for k in
                                              ('compliant', 'expired', 'suspended', 'revoked', 'cancelled')) + '.')
    a('`见附件` model lists: %d. Status written as words, with notes, or as codes 01-05; dates mostly ISO,' %
      sum(1 for c in CERTS if c.models is None))
    a('some `YYYY/MM/DD` and `YYYY年MM月DD日`. Some certificates have status changes dated after the as-of date.')
    a('Company variants: applicant a trading company with the brand company as manufacturer; applicant a')
    a('company not in brands.csv whose name contains the brand; brand company only as factory.')
    a('')
    a('## Counts per verdict')
    a('')
    a('| verdict | listings | share |')
    a('|---|---:|---:|')
    for v in VERDICTS:
        a('| %s | %d | %.1f%% |' % (v, vc[v], 100.0 * vc[v] / n))
    a('| **total** | **%d** | |' % n)
    a('')
    a('## Counts per trap')
    a('')
    a('| verdict | trap | listings |')
    a('|---|---|---:|')
    for v in VERDICTS:
        for (vv, t), k in sorted(tc.items()):
            if vv == v:
                a('| %s | %s | %d |' % (v, t, k))
    a('')
    with open(OUT_README, 'w', encoding='utf-8') as f:
        f.write('\n'.join(L_))


def main():
    for p in (BRANDS_CSV, CATALOG_CSV):
        if not os.path.exists(p):
            raise SystemExit('missing input %s' % p)
    cases, skipped, reasons = generate()
    write_outputs(cases)
    check_invariants(cases)
    write_readme(cases, skipped)
    vc = Counter(c['verdict'] for c in cases)
    print('certificates: %d' % len(CERTS))
    print('listings: %d' % len(cases))
    for v in VERDICTS:
        print('  %-15s %4d  %.1f%%' % (v, vc[v], 100.0 * vc[v] / len(cases)))
    print('regenerated cases: %d' % sum(skipped.values()))
    for r, k in reasons.most_common(12):
        print('   %5d  %s' % (k, r))


if __name__ == '__main__':
    main()
