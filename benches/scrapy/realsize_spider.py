"""Scrapy spider for set B (gen_realsize.py): the same extraction as realsize.toml.

Run (run.sh does this):
  venv/bin/scrapy runspider realsize_spider.py -a base=http://127.0.0.1:PORT -O out.jsonl

Search pages (the saved JD page): every `li.gl-item` card's link (`div.p-name a@href`,
else `div.p-img a@href`), and the next-page link `#J_bottomPage a.pn-next@href`
(followed only when the page had cards, as cccwatch does).
Item pages (the saved Tmall page): title, price, shop with the same alternatives,
in the same order, as realsize.toml / config/platforms/tmall.toml; every spec row
(`#J_BrandAttr .name, #J_AttrUL li`, else the rows of `table.tm-tableAttr`) as
label/value split at the first colon, value from the `title` attribute when present;
the gone markers. Texts are cleaned like cccwatch (whitespace runs incl. NBSP and
U+3000 -> one space; price -> first decimal number).

Encoding: the Tmall page is GBK and declares it only in a <meta> ~155 KB in. Scrapy
looks for a declaration in the first 4 KB only, then guesses with charset_normalizer:
on this page it guesses iso8859-10 (mojibake titles) and the guess costs ~35-50 ms of
CPU per page; the guess is made by the first reader of response.text, which is
Scrapy's own MetaRefreshMiddleware, before any spider callback. So, like cccwatch
(src/crawl/decode.rs), MetaCharsetMiddleware below (a downloader middleware that sees
responses before Scrapy's built-in ones) searches the whole body for a
<meta ... charset=...> when there is no BOM, no charset in Content-Type and no
declaration in the first 4 KB, and gives the response that encoding.
Set -s META_CHARSET_MIDDLEWARE=0 to see Scrapy's default behaviour instead.
"""
import re

import scrapy
from scrapy.http import TextResponse
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

META_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.I)
GONE_MARKERS = ("此商品已下架", "您查看的宝贝不存在")
ITEM_ID = re.compile(r"/item/(\d+_\d+)\.html")

CARD = "li.gl-item"
ITEM_LINK = ["div.p-name a@href", "div.p-img a@href"]
NEXT_PAGE = ["#J_bottomPage a.pn-next@href"]
ITEM_FIELDS = {
    "title": ["div.tb-detail-hd h1", "title"],
    "price": ["#J_PromoPrice .tm-price", "#J_StrPriceModBox .tm-price", ".tm-price"],
    "seller": ["a.slogo-shopname strong", "a.slogo-shopname", "#shopExtra .slogo a@title"],
}
SPEC_ROWS = ["#J_BrandAttr .name, #J_AttrUL li", "table.tm-tableAttr"]


def clean(s):
    return " ".join(s.split())  # str.split() splits at NBSP and U+3000 too


def clean_label(s):
    return clean(s).rstrip(":： ").strip()


def split_label_value(s):
    m = re.search("[:：]", s)
    if not m:
        return None
    label, value = clean_label(s[: m.start()]), clean(s[m.end():])
    return (label, value) if label and len(label) <= 20 else None


def price(s):
    out, seen_dot = [], False
    for ch in s:
        if "0" <= ch <= "9":
            out.append(ch)
        elif ch == "," and out and not seen_dot:
            pass
        elif ch == "." and out and not seen_dot:
            seen_dot = True
            out.append(".")
        elif out:
            break
    v = "".join(out).rstrip(".")
    return v or None


def compile_sel(s):
    css, _, attr = s.rpartition("@") if "@" in s else (s, "", None)
    return css.strip(), attr


def value_of(el, attr):
    v = el.attrib.get(attr) if attr else el.xpath("string()").get()
    v = clean(v) if v is not None else ""
    return v or None


def first(scope, alternatives):
    """The first non-empty value of any alternative (text, or `css@attr`)."""
    for s in alternatives:
        css, attr = compile_sel(s)
        for el in scope.css(css):
            v = value_of(el, attr)
            if v:
                return v
    return None


def resolve(response, link):
    link = (link or "").strip()
    if not link or link.startswith("javascript:") or link == "#":
        return None
    return response.urljoin(link)


def line_row(el, out):
    kv = split_label_value(clean(el.xpath("string()").get()))
    if kv:
        title = clean(el.attrib.get("title") or "")
        out.append((kv[0], title or kv[1]))


def cell_value(el):
    return clean(el.attrib.get("title") or "") or clean(el.xpath("string()").get())


def spec_rows(response):
    out = []
    for s in SPEC_ROWS:
        els = response.css(s)
        if not els:
            continue
        for el in els:
            tag = el.root.tag
            if tag in ("table", "tbody", "thead", "tr"):
                for tr in [el] if tag == "tr" else el.css("tr"):
                    cells = [c for c in tr.xpath("./th|./td")]
                    if len(cells) == 1:
                        line_row(cells[0], out)
                        continue
                    for i in range(0, len(cells) - 1, 2):
                        out.append((clean_label(cells[i].xpath("string()").get()), cell_value(cells[i + 1])))
            elif tag == "dl":
                label = None
                for c in el.xpath("./*"):
                    if c.root.tag == "dt":
                        label = clean_label(c.xpath("string()").get())
                    elif c.root.tag == "dd" and label is not None:
                        out.append((label, cell_value(c)))
                        label = None
            else:
                line_row(el, out)
        break
    return [(k, v) for k, v in out if k and v]


def with_meta_charset(response):
    """The response decoded by a <meta charset> found anywhere in the body (see module doc)."""
    body = response.body
    ct = response.headers.get(b"Content-Type", b"").decode("latin-1")
    if read_bom(body)[0] or http_content_type_encoding(ct) or html_body_declared_encoding(body):
        return response
    m = META_CHARSET.search(body)
    if not m or getattr(response, "_encoding", None):  # explicit encoding given already
        return response
    # Not response.replace(encoding=...): replace() reads every attribute of the old
    # response first, `encoding` included, which runs Scrapy's charset guess (~50 ms here).
    kw = {a: getattr(response, a) for a in response.attributes if a != "encoding"}
    return response.__class__(encoding=m.group(1).decode("ascii"), **kw)


class MetaCharsetMiddleware:
    """Downloader middleware: the encoding of a <meta charset> anywhere in the body."""

    def process_response(self, request, response):
        return with_meta_charset(response) if isinstance(response, TextResponse) else response


class RealSizeSpider(scrapy.Spider):
    name = "realsize"
    custom_settings = {  # as the peer's product_spider.py
        "ROBOTSTXT_OBEY": True,
        "AUTOTHROTTLE_ENABLED": False,
        "CONCURRENT_REQUESTS": 64,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 64,
        "DOWNLOAD_DELAY": 0,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "INFO",
        "LOGSTATS_INTERVAL": 10,
        "COOKIES_ENABLED": False,
        "RETRY_ENABLED": False,
        "FEED_EXPORT_ENCODING": "utf-8",
        "USER_AGENT": "ccc-monitor-bench/0.1 (+loopback benchmark)",
        # process_response runs in decreasing order: 950 sees responses before
        # MetaRefreshMiddleware (580) reads response.text.
        "DOWNLOADER_MIDDLEWARES": {MetaCharsetMiddleware: 950},
    }

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        if not settings.getbool("META_CHARSET_MIDDLEWARE", True):
            settings.set("DOWNLOADER_MIDDLEWARES", {}, priority="spider")

    def __init__(self, base="http://127.0.0.1:8082", **kw):
        super().__init__(**kw)
        self.base = base.rstrip("/")

    async def start(self):
        yield scrapy.Request(f"{self.base}/search/page-1.html", callback=self.parse_search, priority=10)

    def parse_search(self, response):
        cards = response.css(CARD)
        for card in cards:
            link = resolve(response, first(card, ITEM_LINK))
            if link:
                yield scrapy.Request(link, callback=self.parse_item)
        nxt = resolve(response, first(response, NEXT_PAGE))
        if cards and nxt:
            yield scrapy.Request(nxt, callback=self.parse_search, priority=10)

    def parse_item(self, response):
        if any(m in response.text for m in GONE_MARKERS):
            return
        item = {"url": response.url, "item_id": (ITEM_ID.search(response.url) or [None, None])[1],
                "encoding": response.encoding}
        for name, alternatives in ITEM_FIELDS.items():
            v = first(response, alternatives)
            item[name] = price(v) or v if name == "price" and v else v
        if not item["title"]:
            return
        item["spec"] = spec_rows(response)
        yield item
