//! The review workspace in a real browser: Debian's headless Chromium,
//! driven through chromedriver (WebDriver) with fantoccini, the way a person
//! uses it. A reviewer logs in through the form, filters and searches the
//! queue, decides listings with the button and with the keyboard (`c`, `n`),
//! sees the decision in the listing's record and on the dashboard; a hostile
//! listing's title and captured page stay inert; a viewer gets no decision
//! forms; a bulk decision goes through its confirmation dialog; the users
//! and audit pages work for the administrator. Screenshots of every screen
//! are written to `docs/screenshots/` on each run.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's
//! `chromium` and `chromium-driver`, which `.ci/run` installs); without them
//! the test says so and passes.

mod support;

use anyhow::{Context, Result, anyhow, bail, ensure};
use cccwatch::domain::Role;
use cccwatch::domain::Verdict;
use cccwatch::domain::decision::{Action, ReviewState};
use cccwatch::market::HOSTILE_TITLE_PREFIX;
use cccwatch::review::queue::QueueParams;
use cccwatch::store::{QueueRow, Store};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const WIDTH: u32 = 1366;
const HEIGHT: u32 = 768;
/// The longest wait for anything the browser or the server does.
const PATIENCE: Duration = Duration::from_secs(30);
/// Marketplace listings crawled for the test (every 25th is hostile).
const ITEMS: usize = 160;

// ---- chromedriver and the browser ------------------------------------------

/// chromedriver on a free loopback port. Dropping the guard ends the
/// browser session if the test did not (which closes Chromium), then kills
/// chromedriver.
struct Driver {
    child: Child,
    port: u16,
    url: String,
    profile: tempfile::TempDir,
    session: Option<String>,
}

impl Driver {
    fn start() -> Result<Driver> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let profile = tempfile::tempdir()?;
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting chromedriver")?;
        let mut driver = Driver {
            child,
            port,
            url: format!("http://127.0.0.1:{port}"),
            profile,
            session: None,
        };
        let deadline = Instant::now() + PATIENCE;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = driver.child.try_wait()? {
                bail!("chromedriver exited before answering: {status}");
            }
            ensure!(
                Instant::now() < deadline,
                "chromedriver did not answer on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(driver)
    }

    async fn browser(&mut self) -> Result<Client> {
        let profile = format!("--user-data-dir={}", self.profile.path().display());
        let caps = json!({
            "browserName": "chrome",
            // Dialogs stay open until the test accepts or dismisses them.
            "unhandledPromptBehavior": "ignore",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--hide-scrollbars", "--lang=zh-CN",
                    format!("--window-size={WIDTH},{HEIGHT}"), profile,
                ],
            },
        });
        let Value::Object(caps) = caps else {
            unreachable!("an object")
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .context("starting a Chromium session")?;
        self.session = client.session_id().await?;
        Ok(client)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // A session still open (the test failed half-way): ask chromedriver
        // to end it, which closes Chromium, before chromedriver goes.
        if let Some(id) = self.session.take()
            && let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port))
        {
            let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = write!(
                s,
                "DELETE /session/{id} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                self.port
            );
            let _ = s.read_to_end(&mut Vec::new());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---- acting as a person -------------------------------------------------------

/// The browser plus where the workspace is and where pictures go.
struct Ui {
    c: Client,
    base: String,
    shots: PathBuf,
}

/// Polls until `PATIENCE` has passed; each caller says what it waits for.
struct Deadline {
    until: Instant,
    what: String,
}

impl Deadline {
    fn new(what: impl Into<String>) -> Deadline {
        Deadline {
            until: Instant::now() + PATIENCE,
            what: what.into(),
        }
    }

    async fn tick(&self) -> Result<()> {
        if Instant::now() > self.until {
            bail!("timed out after {PATIENCE:?} waiting for {}", self.what);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(())
    }
}

impl Ui {
    fn href(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn open(&self, path: &str) -> Result<()> {
        self.c.goto(&self.href(path)).await?;
        self.loaded().await
    }

    /// Waits until the current document (and its frames) finished loading.
    async fn loaded(&self) -> Result<()> {
        let d = Deadline::new("the page to load");
        loop {
            if self.js("return document.readyState").await? == json!("complete") {
                return Ok(());
            }
            d.tick().await?;
        }
    }

    async fn js(&self, script: &str) -> Result<Value> {
        Ok(self.c.execute(script, vec![]).await?)
    }

    async fn url(&self) -> Result<url::Url> {
        Ok(self.c.current_url().await?)
    }

    /// Waits until the address satisfies `ok` and that page has loaded.
    async fn wait_url(&self, what: &str, ok: impl Fn(&url::Url) -> bool) -> Result<url::Url> {
        let d = Deadline::new(what);
        loop {
            let u = self.url().await?;
            if ok(&u) {
                self.loaded().await?;
                return Ok(u);
            }
            d.tick().await?;
        }
    }

    async fn find(&self, css: &str) -> Result<Element> {
        self.c
            .find(Locator::Css(css))
            .await
            .with_context(|| format!("finding {css}"))
    }

    async fn all(&self, css: &str) -> Result<Vec<Element>> {
        Ok(self.c.find_all(Locator::Css(css)).await?)
    }

    async fn exists(&self, css: &str) -> Result<bool> {
        Ok(!self.all(css).await?.is_empty())
    }

    async fn text(&self, css: &str) -> Result<String> {
        Ok(self.find(css).await?.text().await?)
    }

    async fn wait_for(&self, css: &str) -> Result<Element> {
        self.c
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("waiting for {css}"))
    }

    /// Presses and releases one key on whatever has the focus.
    async fn key(&self, key: char) -> Result<()> {
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.c.perform_actions(keys).await?;
        Ok(())
    }

    async fn number(&self, css: &str) -> Result<i64> {
        let t = self.text(css).await?;
        t.trim()
            .parse()
            .with_context(|| format!("{css} shows {t:?}, not a number"))
    }

    /// Saves a PNG of the window, or of the whole page when `full` (the
    /// window is made as tall as the page for the shot, then put back).
    async fn shot(&self, name: &str, full: bool) -> Result<()> {
        if full {
            let page = self
                .js("return Math.ceil(document.documentElement.scrollHeight)")
                .await?;
            let page = page
                .as_u64()
                .unwrap_or(u64::from(HEIGHT))
                .clamp(u64::from(HEIGHT), 8000) as u32;
            let inner = self
                .js("return window.innerHeight")
                .await?
                .as_u64()
                .unwrap_or(u64::from(HEIGHT)) as u32;
            let (_, outer) = self.c.get_window_size().await?;
            let frame = (outer as u32).saturating_sub(inner);
            self.c.set_window_size(WIDTH, page + frame).await?;
            let d = Deadline::new("the window to grow");
            while self.js("return window.innerHeight").await?.as_u64() < Some(u64::from(page)) {
                d.tick().await?;
            }
        }
        let png = self.c.screenshot().await?;
        std::fs::write(self.shots.join(name), png).with_context(|| format!("writing {name}"))?;
        if full {
            self.c.set_window_size(WIDTH, HEIGHT).await?;
        }
        Ok(())
    }

    /// Logs in through the form, as `user`; lands on the queue.
    async fn login(&self, user: &str, screenshot: Option<&str>) -> Result<()> {
        self.open("/login").await?;
        ensure!(
            self.url().await?.path() == "/login",
            "not logged out: {}",
            self.url().await?
        );
        self.find("input[name=username]")
            .await?
            .send_keys(user)
            .await?;
        if let Some(name) = screenshot {
            self.shot(name, false).await?;
        }
        self.find("input[name=password]")
            .await?
            .send_keys(support::PASSWORD)
            .await?;
        self.find("main.login button[type=submit]")
            .await?
            .click()
            .await?;
        self.wait_url("the queue after logging in", |u| u.path() == "/queue")
            .await?;
        self.wait_for("table#queue").await?;
        let who = self.text("header .who").await?;
        ensure!(
            who.contains(&format!("{user} 的姓名")),
            "header shows {who:?} after logging in as {user}"
        );
        Ok(())
    }

    /// Logs out with the header's button.
    async fn logout(&self) -> Result<()> {
        self.find("header .who button[type=submit]")
            .await?
            .click()
            .await?;
        self.wait_url("the login page after logging out", |u| u.path() == "/login")
            .await?;
        Ok(())
    }

    /// The listing id in the address, e.g. 17 for `/listings/17?...`.
    async fn listing_id(&self) -> Result<i64> {
        let u = self.url().await?;
        let id = u
            .path()
            .strip_prefix("/listings/")
            .ok_or_else(|| anyhow!("not on a listing page: {u}"))?;
        Ok(id.parse()?)
    }

    /// The ids of the queue rows on the current page.
    async fn queue_ids(&self) -> Result<Vec<i64>> {
        let mut out = Vec::new();
        for row in self.all("table#queue tbody tr[data-id]").await? {
            let id = row.attr("data-id").await?.unwrap_or_default();
            out.push(id.parse()?);
        }
        Ok(out)
    }

    async fn is_alert_open(&self) -> Result<bool> {
        match self.c.get_alert_text().await {
            Ok(_) => Ok(true),
            Err(e) if e.is_no_such_alert() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

fn query_has(u: &url::Url, key: &str, value: &str) -> bool {
    u.query_pairs().any(|(k, v)| k == key && v == value)
}

// ---- what the store holds -----------------------------------------------------

/// Flagged findings, as the queue lists them; `state` None means pending.
async fn queue_rows(store: &Store, state: Option<&str>, verdict: Option<&str>) -> Vec<QueueRow> {
    let params = QueueParams {
        state: state.map(str::to_string),
        verdict: verdict.map(str::to_string),
        per_page: Some("200".into()),
        ..QueueParams::default()
    };
    let filter = params.parse(|_| None).expect("a valid filter");
    store.queue(&filter).await.expect("the queue").rows
}

// ---- the test -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_workspace_in_chromium() {
    if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
        // Straight to stderr, past the test harness's capture, so CI logs show it.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: chromium/chromedriver not installed (apt-get install chromium chromium-driver)"
        );
        return;
    }
    let started = Instant::now();
    let seeded = support::seeded(ITEMS).await;
    let (base, _stop) =
        support::start(&seeded.store, &seeded.brands, support::web_settings()).await;
    let shots = support::root().join("docs/screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    let mut driver = Driver::start().expect("chromedriver starts");
    let client = driver.browser().await.expect("Chromium starts");
    let ui = Ui {
        c: client,
        base,
        shots,
    };
    let result = journey(&ui, &seeded.store).await;
    if ui.c.clone().close().await.is_ok() {
        driver.session = None;
    }
    drop(driver);
    if let Err(e) = result {
        panic!("{e:#}");
    }
    println!(
        "browser journey passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

async fn journey(ui: &Ui, store: &Store) -> Result<()> {
    // The window really is 1366 px wide and nothing scrolls sideways.
    ui.open("/login").await?;
    let inner = ui.js("return window.innerWidth").await?;
    ensure!(inner == json!(WIDTH), "the window is {inner} px wide");

    reviewer_filters_the_queue(ui, store)
        .await
        .context("filtering the queue")?;
    reviewer_decides(ui, store)
        .await
        .context("deciding listings")?;
    hostile_listing_stays_inert(ui, store)
        .await
        .context("the hostile listing")?;
    ui.logout().await?;
    viewer_cannot_decide(ui, store)
        .await
        .context("the viewer")?;
    ui.logout().await?;
    reviewer_decides_in_bulk(ui)
        .await
        .context("the bulk decision")?;
    ui.logout().await?;
    admin_screens(ui).await.context("the admin screens")?;
    Ok(())
}

async fn no_sideways_scroll(ui: &Ui, page: &str) -> Result<()> {
    let wide = ui.js("return document.documentElement.scrollWidth").await?;
    ensure!(
        wide.as_u64().is_some_and(|w| w <= u64::from(WIDTH)),
        "{page} is {wide} px wide at {WIDTH} px: it scrolls sideways"
    );
    Ok(())
}

async fn reviewer_filters_the_queue(ui: &Ui, store: &Store) -> Result<()> {
    ui.login("wang", Some("login.png")).await?;
    let role = ui.text("header .who").await?;
    ensure!(
        role.contains(Role::Reviewer.label_zh()),
        "header shows {role:?}"
    );
    let pending = queue_rows(store, None, None).await;
    ensure!(
        pending.len() >= 10,
        "only {} pending findings to work with",
        pending.len()
    );
    let total = ui.text("#total").await?;
    ensure!(
        total == format!("共 {} 条", pending.len()),
        "queue says {total:?}, the store has {}",
        pending.len()
    );
    let ids = ui.queue_ids().await?;
    ensure!(
        !ids.is_empty() && ids.len() <= 50,
        "{} rows on the first page",
        ids.len()
    );
    no_sideways_scroll(ui, "the queue").await?;
    ui.shot("queue.png", false).await?;

    // Choose a verdict in the select and submit: the address and the rows follow.
    let mut counts: Vec<(Verdict, usize)> = Vec::new();
    for r in &pending {
        match counts.iter_mut().find(|(v, _)| *v == r.verdict) {
            Some(e) => e.1 += 1,
            None => counts.push((r.verdict, 1)),
        }
    }
    counts.sort_by_key(|(v, n)| (std::cmp::Reverse(*n), v.as_str()));
    let (verdict, n) = counts
        .iter()
        .copied()
        .find(|(_, n)| *n < pending.len())
        .ok_or_else(|| anyhow!("every pending finding has the same verdict: {counts:?}"))?;
    ui.find("#filters select[name=verdict]")
        .await?
        .select_by_value(verdict.as_str())
        .await?;
    ui.find("#filters button[type=submit]")
        .await?
        .click()
        .await?;
    ui.wait_url("the verdict filter in the address", |u| {
        query_has(u, "verdict", verdict.as_str())
    })
    .await?;
    let total = ui.text("#total").await?;
    ensure!(
        total == format!("共 {n} 条"),
        "filtered by {verdict:?} the queue says {total:?}, expected {n}"
    );
    let tags = ui
        .all("table#queue tbody tr[data-id] td:nth-child(5) .tag")
        .await?;
    ensure!(
        tags.len() == n.min(50),
        "{} rows for {n} findings",
        tags.len()
    );
    for t in tags {
        let text = t.text().await?;
        ensure!(
            text == verdict.label_zh(),
            "a row shows {text:?} under the filter {verdict:?}"
        );
    }
    let selected = ui
        .find("#filters select[name=verdict]")
        .await?
        .prop("value")
        .await?;
    ensure!(
        selected.as_deref() == Some(verdict.as_str()),
        "the select forgot the filter: {selected:?}"
    );

    // Type a search term: only rows that contain it remain.
    let term = pending
        .iter()
        .filter_map(|r| r.brand.clone())
        .find(|b| b.chars().count() >= 2 && b.chars().all(|c| !c.is_ascii()))
        .ok_or_else(|| anyhow!("no Chinese brand to search for"))?;
    ui.find("#filters a.button").await?.click().await?; // 清除条件
    ui.wait_url("the cleared queue", |u| u.query().is_none_or(str::is_empty))
        .await?;
    let search = ui.find("#filters input[name=q]").await?;
    search.send_keys(&term).await?;
    search.send_keys("\u{e007}").await?; // Enter
    ui.wait_url("the search in the address", |u| query_has(u, "q", &term))
        .await?;
    let rows = ui.all("table#queue tbody tr[data-id]").await?;
    ensure!(!rows.is_empty(), "searching {term:?} found nothing");
    ensure!(
        rows.len() < pending.len().min(50) || pending.len() > 50,
        "searching {term:?} kept every row"
    );
    for r in &rows {
        let text = r.text().await?;
        ensure!(
            text.to_lowercase().contains(&term.to_lowercase()),
            "row {text:?} does not contain {term:?}"
        );
    }
    let value = ui
        .find("#filters input[name=q]")
        .await?
        .prop("value")
        .await?;
    ensure!(
        value.as_deref() == Some(term.as_str()),
        "the search box forgot {term:?}"
    );
    Ok(())
}

/// The listing picture: a certificate comparison with a highlighted
/// difference, preferably a cert_mismatch.
async fn listing_screenshot(ui: &Ui, store: &Store) -> Result<()> {
    let mut candidates = queue_rows(store, None, Some(Verdict::CertMismatch.as_str())).await;
    candidates.extend(
        queue_rows(store, None, None)
            .await
            .into_iter()
            .filter(|r| r.matched_cert.is_some()),
    );
    let mut fallback = None;
    for row in candidates.iter().take(25) {
        ui.open(&format!("/listings/{}", row.listing_id)).await?;
        if ui.exists("#compare mark").await? {
            no_sideways_scroll(ui, "the listing page").await?;
            ui.shot("listing.png", true).await?;
            return Ok(());
        }
        if fallback.is_none() && ui.exists("#compare").await? {
            fallback = Some(row.listing_id);
        }
    }
    let id = fallback
        .or(candidates.first().map(|r| r.listing_id))
        .ok_or_else(|| anyhow!("no listing to show"))?;
    ui.open(&format!("/listings/{id}")).await?;
    ui.shot("listing.png", true).await
}

async fn reviewer_decides(ui: &Ui, store: &Store) -> Result<()> {
    listing_screenshot(ui, store).await?;

    ui.open("/dashboard").await?;
    let confirmed_before = ui.number("#count-confirmed").await?;
    let pending_before = ui.number("#count-pending").await?;

    // From the queue, open the first listing and confirm it with the button.
    ui.find("nav a[href='/queue']").await?.click().await?;
    ui.wait_url("the queue", |u| u.path() == "/queue").await?;
    let first = ui.queue_ids().await?[0];
    ui.find("table#queue tbody tr[data-id] td.title a")
        .await?
        .click()
        .await?;
    ui.wait_url("the first listing", |u| {
        u.path() == format!("/listings/{first}")
    })
    .await?;
    ensure!(
        ui.text("#review-state").await? == ReviewState::Pending.label_zh(),
        "listing {first} is not pending"
    );
    ui.find("#confirm-button").await?.click().await?;
    let done = first.to_string();
    ui.wait_url("the saved decision", |u| query_has(u, "done", &done))
        .await?;
    let notice = ui.text("p.notice").await?;
    ensure!(
        notice.contains("已保存") && notice.contains(&format!("#{first}")),
        "notice says {notice:?}"
    );

    // The page moved on to the next listing: confirm it with `c`, then skip one with `n`.
    let second = ui.listing_id().await?;
    ensure!(
        second != first,
        "after the decision the page stayed on {first}"
    );
    ensure!(
        ui.text("#review-state").await? == ReviewState::Pending.label_zh(),
        "listing {second} is not pending"
    );
    ui.key('c').await?;
    let done = second.to_string();
    ui.wait_url("the decision made with c", |u| query_has(u, "done", &done))
        .await?;
    let notice = ui.text("p.notice").await?;
    ensure!(
        notice.contains("已保存") && notice.contains(&format!("#{second}")),
        "notice says {notice:?}"
    );
    let third = ui.listing_id().await?;
    ensure!(
        third != second,
        "after the c decision the page stayed on {second}"
    );
    let next = ui
        .find("#next-link")
        .await?
        .attr("href")
        .await?
        .unwrap_or_default();
    ui.key('n').await?;
    let skipped = ui
        .wait_url("the next listing after n", |u| {
            u.path() != format!("/listings/{third}")
        })
        .await?;
    ensure!(
        next.split('?').next() == Some(skipped.path()),
        "n went to {skipped}, the next link is {next}"
    );
    ensure!(
        ui.text("#review-state").await? == ReviewState::Pending.label_zh(),
        "n skipped to a decided listing"
    );

    // Both decisions are in the listings' records, with who made them.
    for id in [first, second] {
        ui.open(&format!("/listings/{id}")).await?;
        let record = ui.text("#decisions").await?;
        ensure!(
            record.contains(Action::Confirm.label_zh()) && record.contains("wang"),
            "the record of {id} says {record:?}"
        );
        let state = ui.text("#review-state").await?;
        ensure!(
            state == ReviewState::Confirmed.label_zh(),
            "listing {id} is {state:?}"
        );
        // A reviewer may not change a decision.
        ensure!(
            !ui.exists("#confirm-form").await?,
            "a reviewer is offered to revise {id}"
        );
    }

    // The dashboard counts them at once.
    ui.find("nav a[href='/dashboard']").await?.click().await?;
    ui.wait_url("the dashboard", |u| u.path() == "/dashboard")
        .await?;
    let confirmed = ui.number("#count-confirmed").await?;
    ensure!(
        confirmed == confirmed_before + 2,
        "confirmed went from {confirmed_before} to {confirmed}"
    );
    let pending = ui.number("#count-pending").await?;
    ensure!(
        pending == pending_before - 2,
        "pending went from {pending_before} to {pending}"
    );
    let charts = ui.all(".charts svg").await?.len();
    ensure!(charts == 6, "{charts} charts on the dashboard");
    no_sideways_scroll(ui, "the dashboard").await?;
    ui.shot("dashboard.png", true).await?;
    Ok(())
}

async fn hostile_listing_stays_inert(ui: &Ui, store: &Store) -> Result<()> {
    let all = queue_rows(store, Some("all"), None).await;
    let hostile = all
        .iter()
        .find(|r| r.title.starts_with(HOSTILE_TITLE_PREFIX))
        .ok_or_else(|| anyhow!("no flagged hostile listing among {} flagged", all.len()))?;

    // In the queue the markup is text.
    ui.open("/queue?state=all&per_page=200").await?;
    let shown = ui
        .text(&format!("tr[data-id='{}'] td.title a", hostile.listing_id))
        .await?;
    ensure!(
        shown.starts_with("<script>window.__pwned"),
        "the queue shows the title as {shown:?}"
    );

    // On its page too, with the captured page in the sandboxed frame.
    let path = format!("/listings/{}", hostile.listing_id);
    ui.open(&path).await?;
    let opened = ui.url().await?;
    let title = ui.text("h1#listing-title").await?;
    ensure!(
        title.contains("<script>") && title.contains("onerror="),
        "the title shows as {title:?}"
    );
    let frame = ui.find("iframe.evidence").await?;
    ensure!(
        frame.attr("sandbox").await?.as_deref() == Some(""),
        "the evidence frame is not fully sandboxed"
    );
    ensure!(
        ui.all("img").await?.is_empty(),
        "an <img> from the title became an element"
    );
    // Give any script that got through the chance to act.
    tokio::time::sleep(Duration::from_secs(1)).await;
    ensure!(!ui.is_alert_open().await?, "a dialog opened");
    let pwned = ui.js("return typeof window.__pwned").await?;
    ensure!(pwned == json!("undefined"), "window.__pwned is {pwned}");
    let doc_title = ui.c.title().await?;
    ensure!(
        doc_title != "PWNED" && doc_title.contains("CCC"),
        "the document title is {doc_title:?}"
    );
    ensure!(
        ui.url().await? == opened,
        "the page navigated to {}",
        ui.url().await?
    );
    let frame_src = ui
        .js("return document.querySelector('iframe.evidence').getAttribute('src')")
        .await?;
    ensure!(
        frame_src
            .as_str()
            .is_some_and(|s| s.starts_with("/evidence/")),
        "the frame points at {frame_src}"
    );
    no_sideways_scroll(ui, "the hostile listing").await?;
    ui.shot("listing-hostile.png", true).await?;
    // Still nothing after the screenshot's resize and re-layout.
    ensure!(
        ui.js("return typeof window.__pwned").await? == json!("undefined"),
        "window.__pwned was set"
    );
    ensure!(ui.url().await? == opened, "the page navigated away");
    Ok(())
}

async fn viewer_cannot_decide(ui: &Ui, store: &Store) -> Result<()> {
    ui.login("zhao", None).await?;
    ensure!(
        !ui.exists("#bulk").await?,
        "the viewer's queue has the bulk form"
    );
    ensure!(
        !ui.exists("input[name=ids]").await?,
        "the viewer's queue has checkboxes"
    );
    let row = queue_rows(store, None, None)
        .await
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("nothing pending"))?;
    ui.find(&format!("tr[data-id='{}'] td.title a", row.listing_id))
        .await?
        .click()
        .await?;
    ui.wait_url("the listing", |u| {
        u.path() == format!("/listings/{}", row.listing_id)
    })
    .await?;
    for form in [
        "#confirm-form",
        "#dismiss-form",
        "#info-form",
        "#confirm-button",
    ] {
        ensure!(!ui.exists(form).await?, "the viewer sees {form}");
    }
    let page = ui.text("main").await?;
    ensure!(
        page.contains("当前账号为只读"),
        "no read-only note for the viewer"
    );
    // The shortcut does nothing either.
    let before = ui.url().await?;
    ui.key('c').await?;
    ensure!(ui.url().await? == before, "c navigated for a viewer");
    Ok(())
}

async fn reviewer_decides_in_bulk(ui: &Ui) -> Result<()> {
    ui.login("wang", None).await?;
    let boxes = ui.all("table#queue tbody input[name=ids]").await?;
    ensure!(boxes.len() >= 2, "{} checkboxes", boxes.len());
    let mut ids = Vec::new();
    for b in &boxes[..2] {
        b.click().await?;
        ids.push(b.attr("value").await?.unwrap_or_default());
    }
    let count = ui.text("#selected-count").await?;
    ensure!(count == "2", "the bulk bar counts {count:?}");
    ui.find("#bulk-action")
        .await?
        .select_by_value("confirm")
        .await?;
    ui.find("#bulk-submit").await?.click().await?;
    let d = Deadline::new("the confirmation dialog");
    let question = loop {
        match ui.c.get_alert_text().await {
            Ok(t) => break t,
            Err(e) if e.is_no_such_alert() => d.tick().await?,
            Err(e) => return Err(e.into()),
        }
    };
    ensure!(
        question.contains("2 条") && question.contains("确认违规"),
        "the dialog asks {question:?}"
    );
    ui.c.accept_alert().await?;
    ui.wait_url("the bulk result", |u| u.path() == "/queue/bulk")
        .await?;
    let summary = ui.text("#bulk-summary").await?;
    ensure!(
        summary.contains("已处理 2 条"),
        "the result says {summary:?}"
    );
    let mut lines = Vec::new();
    for a in ui.all("main table a").await? {
        lines.push(a.text().await?);
    }
    for id in &ids {
        ensure!(
            lines.contains(&format!("#{id}")),
            "no result line for {id}: {lines:?}"
        );
    }
    ui.find("main a.button.primary").await?.click().await?; // 返回队列
    ui.wait_url("the queue after the bulk decision", |u| {
        u.path() == "/queue"
    })
    .await?;
    let left = ui.queue_ids().await?;
    for id in &ids {
        ensure!(
            !left.contains(&id.parse()?),
            "{id} is still pending after the bulk decision"
        );
    }
    Ok(())
}

async fn admin_screens(ui: &Ui) -> Result<()> {
    ui.login("admin", None).await?;
    ui.find("nav a[href='/admin/users']").await?.click().await?;
    ui.wait_url("the users page", |u| u.path() == "/admin/users")
        .await?;
    let users = ui.text("table#users").await?;
    for (name, role) in support::USERS {
        ensure!(
            users.contains(name) && users.contains(role.label_zh()),
            "users page lacks {name}"
        );
    }
    no_sideways_scroll(ui, "the users page").await?;
    ui.shot("users.png", true).await?;

    ui.find("nav a[href='/audit']").await?.click().await?;
    ui.wait_url("the audit log", |u| u.path() == "/audit")
        .await?;
    ui.find("#verify-button").await?.click().await?;
    ui.wait_url("the verified audit log", |u| query_has(u, "verify", "1"))
        .await?;
    let result = ui.text("#verify-result").await?;
    ensure!(result.contains("校验通过"), "verification says {result:?}");
    let log = ui.text("table#audit").await?;
    ensure!(
        log.contains("审核决定") && log.contains("wang"),
        "the audit log lacks the decisions"
    );
    no_sideways_scroll(ui, "the audit log").await?;
    ui.shot("audit.png", false).await?;
    Ok(())
}
