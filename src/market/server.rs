//! [`Market`]: the running server, its control methods (remove, relist)
//! and what tests read back (requests, truth).

use super::reqlog::LogWriter;
use super::routes;
use super::state::Shared;
use super::truth::ItemTruth;
use super::{MarketConfig, Removal, RequestRecord};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long shutdown waits for open connections before it drops them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running demo marketplace.
pub struct Market {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Market {
    /// Starts a market on 127.0.0.1 with a free port.
    pub async fn start(cfg: MarketConfig) -> std::io::Result<Market> {
        Market::start_on(cfg, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a market on `addr`.
    pub async fn start_on(cfg: MarketConfig, addr: SocketAddr) -> std::io::Result<Market> {
        let log = match &cfg.request_log {
            Some(path) => Some(LogWriter::open(path)?),
            None => None,
        };
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(cfg, log));
        let app = routes::router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, "demo market stopped with an error");
            }
        });
        tracing::info!(%addr, items = shared.cfg.items, "demo market started");
        Ok(Market {
            shared,
            addr,
            stop: Some(stop),
            task,
        })
    }

    /// When the market started; `RequestRecord::at_ms` counts from here.
    pub fn started(&self) -> std::time::Instant {
        self.shared.started
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn config(&self) -> &MarketConfig {
        &self.shared.cfg
    }

    /// Every request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.records()
    }

    /// Ids of all listings that exist (not removed), relistings included.
    /// One string per listing: mind the size of large markets.
    pub fn item_ids(&self) -> Vec<String> {
        let generated = (0..self.shared.items()).map(Shared::generated);
        generated
            .chain(self.shared.relisted())
            .filter(|&r| self.shared.removal(r).is_none())
            .map(|r| r.id.to_string())
            .collect()
    }

    /// How a listing is removed, if it is (`None` also for unknown ids).
    pub fn removal(&self, id: &str) -> Option<Removal> {
        self.shared.resolve(id).and_then(|r| self.shared.removal(r))
    }

    /// Takes a listing down; unknown ids are ignored.
    pub fn remove_item(&self, id: &str, how: Removal) {
        if let Some(r) = self.shared.resolve(id) {
            self.shared.remove(r, how);
        }
    }

    /// Puts a listing taken down with [`Market::remove_item`] back online
    /// under the same id; unknown ids are ignored.
    pub fn restore_item(&self, id: &str) {
        if let Some(r) = self.shared.resolve(id) {
            self.shared.restore(r);
        }
    }

    /// Lists the same product from the same shop under a new id, which
    /// search results show after the generated listings. Returns the new id.
    ///
    /// # Panics
    /// If `id` is not a listing of this market.
    pub fn relist(&self, id: &str) -> String {
        let r = self
            .shared
            .resolve(id)
            .unwrap_or_else(|| panic!("relist: no listing {id}"));
        self.shared.relist(r)
    }

    /// What the page of `id` shows (also for removed listings).
    pub fn truth(&self, id: &str) -> Option<ItemTruth> {
        self.shared.resolve(id).map(|r| self.shared.truth(r))
    }

    /// Stops accepting connections, lets open requests finish (up to 5 s)
    /// and flushes the request log.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let abort = self.task.abort_handle();
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut self.task)
            .await
            .is_err()
        {
            abort.abort();
        }
        let shared = self.shared.clone();
        let _ = tokio::task::spawn_blocking(move || {
            if let Some(log) = &shared.log {
                log.close();
            }
        })
        .await;
    }
}

impl Drop for Market {
    /// A market dropped without [`Market::shutdown`] stops accepting
    /// connections all the same.
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
