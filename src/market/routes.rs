//! The router and the HTML handlers.

use super::html::BLANK_GIF;
use super::state::Shared;
use super::{Removal, api, middleware, pages, render_item, search};
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::collections::HashMap;
use std::sync::Arc;

pub(crate) type Params = Query<HashMap<String, String>>;

/// Keywords longer than this are cut.
const MAX_QUERY_CHARS: usize = 64;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/robots.txt", get(robots))
        .route("/", get(home))
        .route("/search", get(search_page))
        .route("/api/search", get(api::search))
        .route("/api/item/{id}", get(api::item))
        .route("/item/{file}", get(item))
        .route("/shop/{file}", get(shop))
        .route("/img/{*path}", get(gif))
        .route("/static/site.css", get(css))
        .route("/static/{*path}", get(gif))
        .fallback(other)
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            middleware::around,
        ))
        .with_state(shared)
}

/// A response with a body and a content type.
pub(crate) fn respond(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut r = (status, Body::from(body)).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn html(status: StatusCode, body: String) -> Response {
    respond(status, "text/html; charset=utf-8", body.into_bytes())
}

/// `q` (trimmed, at most 64 characters) and `page` (from 1).
pub(crate) fn query(params: &HashMap<String, String>) -> (String, u64) {
    let q: String = params
        .get("q")
        .map(|q| q.trim().chars().take(MAX_QUERY_CHARS).collect())
        .unwrap_or_default();
    let page = params
        .get("page")
        .and_then(|p| p.trim().parse::<u64>().ok())
        .filter(|&p| p >= 1)
        .unwrap_or(1);
    (q, page)
}

/// Runs the (blocking) search off the async threads.
pub(crate) async fn run_search(shared: &Arc<Shared>, q: &str, page: u64) -> search::SearchPage {
    let (s, q2) = (shared.clone(), q.to_string());
    tokio::task::spawn_blocking(move || search::page(&s, &q2, page))
        .await
        .expect("search task")
}

async fn robots() -> Response {
    respond(
        StatusCode::OK,
        "text/plain; charset=utf-8",
        pages::ROBOTS_TXT.as_bytes().to_vec(),
    )
}

async fn home(State(shared): State<Arc<Shared>>) -> Response {
    html(StatusCode::OK, pages::home(&shared))
}

async fn search_page(State(shared): State<Arc<Shared>>, Query(params): Params) -> Response {
    let (q, page) = query(&params);
    let res = run_search(&shared, &q, page).await;
    html(StatusCode::OK, pages::search(&shared, &q, page, &res))
}

async fn item(State(shared): State<Arc<Shared>>, Path(file): Path<String>) -> Response {
    let id = file.strip_suffix(".html").unwrap_or("");
    let Some(r) = shared.resolve(id) else {
        return not_found();
    };
    match shared.removal(r) {
        Some(Removal::NotFound) => return not_found(),
        Some(Removal::Gone) => return gone(),
        Some(Removal::DelistedPage) => {
            return html(StatusCode::OK, render_item::delisted_page(id));
        }
        None => {}
    }
    let t = shared.truth(r);
    let page = render_item::item_page(&shared, &t, r.index);
    if t.charset == "gbk" {
        let (bytes, _, _) = encoding_rs::GBK.encode(&page);
        respond(StatusCode::OK, "text/html", bytes.into_owned())
    } else {
        html(StatusCode::OK, page)
    }
}

async fn shop(Path(file): Path<String>) -> Response {
    let id = file.strip_suffix(".html").unwrap_or("");
    match super::shops::Shops::get().by_id(id) {
        Some(name) => html(StatusCode::OK, pages::shop(id, name)),
        None => not_found(),
    }
}

async fn css() -> Response {
    let css = "body{font:12px/1.5 \"Microsoft YaHei\",sans-serif}.price{color:#e4393c}\n";
    respond(
        StatusCode::OK,
        "text/css; charset=utf-8",
        css.as_bytes().to_vec(),
    )
}

async fn gif() -> Response {
    respond(StatusCode::OK, "image/gif", BLANK_GIF.to_vec())
}

/// `/private/…` and `/cart…` answer 200 (robots.txt keeps crawlers out);
/// anything else is 404.
async fn other(req: Request) -> Response {
    let path = req.uri().path();
    if path.starts_with("/private") {
        html(
            StatusCode::OK,
            pages::simple("商家后台", "请先登录后再访问此页面"),
        )
    } else if path.starts_with("/cart") {
        html(
            StatusCode::OK,
            pages::simple("购物车", "购物车里还没有商品"),
        )
    } else if path == "/about" {
        html(
            StatusCode::OK,
            pages::simple("关于我们", "演示商城：用于演示与测试的模拟电商平台"),
        )
    } else {
        not_found()
    }
}

pub(crate) fn not_found() -> Response {
    html(
        StatusCode::NOT_FOUND,
        pages::simple("页面不存在", "抱歉，您访问的页面不存在"),
    )
}

pub(crate) fn gone() -> Response {
    html(
        StatusCode::GONE,
        pages::simple("商品已删除", "该商品已被删除"),
    )
}
