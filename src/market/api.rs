//! The JSON API: `/api/search?q=&page=` and `/api/item/ID`.

use super::Removal;
use super::html::url_encode;
use super::routes::{Params, query, respond, run_search};
use super::state::Shared;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use std::sync::Arc;

#[derive(Serialize)]
struct SearchResult {
    total: u64,
    page: u64,
    items: Vec<SearchItem>,
    next: Option<String>,
}

#[derive(Serialize)]
struct SearchItem {
    id: String,
    title: String,
    price: f64,
    shop: String,
    url: String,
}

#[derive(Serialize)]
struct Item {
    id: String,
    title: String,
    price: f64,
    shop: Shop,
    brand: String,
    model: String,
    category: String,
    description: String,
    props: Vec<Prop>,
}

#[derive(Serialize)]
struct Shop {
    name: String,
    url: String,
}

#[derive(Serialize)]
struct Prop {
    name: String,
    value: String,
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    respond(status, "application/json; charset=utf-8", body)
}

fn error(status: StatusCode, id: &str, message: &str) -> Response {
    json(
        status,
        &serde_json::json!({ "id": id, "error": status.as_u16(), "message": message }),
    )
}

pub(crate) async fn search(State(shared): State<Arc<Shared>>, Query(params): Params) -> Response {
    let (q, page) = query(&params);
    let res = run_search(&shared, &q, page).await;
    let items = res
        .items
        .iter()
        .map(|r| {
            let t = shared.truth(*r);
            SearchItem {
                url: format!("/item/{}.html", t.id),
                id: t.id,
                title: t.title,
                price: t.price,
                shop: t.seller,
            }
        })
        .collect();
    let next = res
        .has_next
        .then(|| format!("/api/search?q={}&page={}", url_encode(&q), page + 1));
    let body = SearchResult {
        total: res.total,
        page,
        items,
        next,
    };
    json(StatusCode::OK, &body)
}

pub(crate) async fn item(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let Some(r) = shared.resolve(&id) else {
        return error(StatusCode::NOT_FOUND, &id, "商品不存在");
    };
    match shared.removal(r) {
        Some(Removal::NotFound) => return error(StatusCode::NOT_FOUND, &id, "商品不存在"),
        Some(Removal::Gone) => return error(StatusCode::GONE, &id, "该商品已被删除"),
        Some(Removal::DelistedPage) => {
            let body = serde_json::json!({ "id": id, "delisted": true, "message": "该商品已下架" });
            return json(StatusCode::OK, &body);
        }
        None => {}
    }
    let t = shared.truth(r);
    let body = Item {
        shop: Shop {
            url: format!("/shop/{}.html", t.shop),
            name: t.seller,
        },
        id: t.id,
        title: t.title,
        price: t.price,
        brand: t.brand,
        model: t.model,
        category: t.category,
        description: t.description,
        props: t
            .spec
            .into_iter()
            .map(|(name, value)| Prop { name, value })
            .collect(),
    };
    json(StatusCode::OK, &body)
}
