#!/usr/bin/env python3
"""Generate set B of the crawler benchmark: real-size saved pages, served statically.

Usage: python3 gen_realsize.py [--out site] [--pages 84] [--jd JD_SEARCH.html] [--tmall TMALL.html]

Layout (every page is a real saved page, only links changed):
  robots.txt            User-agent: * / Disallow: /private/   (nothing of the crawl is disallowed)
  search/page-N.html    the saved JD search page (60 li.gl-item cards, UTF-8 with BOM), byte for byte,
                        except that (1) inside card K every link to //item.jd.com/SKU.html
                        (//e.jd.com/SKU.html for the 2 e-book cards) becomes /item/N_K.html
                        and (2) a next-page link (JD's own pager markup,
                        <a class="pn-next" href="/search/page-N+1.html">) is put into the empty
                        <div id="J_bottomPage" class="p-wrap"></div> where JD's script draws its pager
                        (not on the last page).
  item/N_K.html         the saved Tmall item page (GBK, ~780 KB, <meta charset="gbk"> ~155 KB in,
                        no charset in the HTTP header): hard links to one file (site/tmall.html),
                        so 5,000 item pages take the disk space of one.

--pages 84 gives 84 x 60 = 5,040 item pages + 84 search pages.
"""
import argparse
import os
import re
import shutil

FIX = "/work/shared/fixtures/pages"
JD = f"{FIX}/jd_search_yaohuiwu/jd_search.html"
TMALL = f"{FIX}/taobao_tmall_ogs_pages/tmall.html"

CARD = re.compile(rb'<li data-sku="\d+" class="gl-item">.*?</li>', re.S)
ITEM_LINK = re.compile(rb'//(?:item|e)\.jd\.com/\d+\.html')  # 2 e-book cards link to e.jd.com
PAGER = b'<div id="J_bottomPage" class="p-wrap"></div>'
NEXT = ('<div id="J_bottomPage" class="p-wrap"><span class="p-num">'
        '<a class="pn-next" href="/search/page-{n}.html" onclick="searchlog(1,0,0,55)">'
        '<em>\u4e0b\u4e00\u9875</em><i>&gt;</i></a></span></div>')  # 下一页


def search_page(jd: bytes, n: int, n_pages: int) -> bytes:
    k = 0

    def card(m):
        nonlocal k
        k += 1
        return ITEM_LINK.sub(f"/item/{n}_{k}.html".encode(), m.group(0))

    page = CARD.sub(card, jd)
    assert k == 60, f"expected 60 cards in the JD page, found {k}"
    if n < n_pages:
        assert page.count(PAGER) == 1, "JD pager placeholder not found"
        page = page.replace(PAGER, NEXT.format(n=n + 1).encode("utf-8"))
    return page


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="site")
    ap.add_argument("--pages", type=int, default=84, help="search pages (60 items each)")
    ap.add_argument("--jd", default=JD)
    ap.add_argument("--tmall", default=TMALL)
    a = ap.parse_args()
    jd = open(a.jd, "rb").read()
    for d in ("search", "item"):
        os.makedirs(os.path.join(a.out, d), exist_ok=True)
    with open(os.path.join(a.out, "robots.txt"), "w") as f:
        f.write("User-agent: *\nDisallow: /private/\n")
    tmall = os.path.join(a.out, "tmall.html")
    shutil.copyfile(a.tmall, tmall)
    os.chmod(tmall, 0o644)
    total = 0
    for n in range(1, a.pages + 1):
        page = search_page(jd, n, a.pages)
        total += len(page)
        with open(os.path.join(a.out, "search", f"page-{n}.html"), "wb") as f:
            f.write(page)
        for k in range(1, 61):
            dst = os.path.join(a.out, "item", f"{n}_{k}.html")
            if os.path.lexists(dst):
                os.unlink(dst)
            try:
                os.link(tmall, dst)
            except OSError:
                shutil.copyfile(tmall, dst)
    items = a.pages * 60
    total += items * os.path.getsize(tmall)
    print(f"{a.pages} search pages, {items} item pages, {total / 1e6:.0f} MB served "
          f"(avg {total / (a.pages + items) / 1024:.0f} KiB/page) in {a.out}/")


if __name__ == "__main__":
    main()
