//! Stopping on Ctrl-C or SIGTERM. A command runs on one
//! [`CancellationToken`]; the first signal cancels it (scans let pages in
//! flight finish and save their frontier), a second one ends the process.

use tokio_util::sync::CancellationToken;

/// A token cancelled on the first Ctrl-C or SIGTERM; the second exits with 130.
pub fn stop_on_signal() -> CancellationToken {
    let stop = CancellationToken::new();
    cancel_on_signal(stop.clone());
    stop
}

/// Cancels `stop` on the first Ctrl-C or SIGTERM, saying so; exits with 130
/// on the second.
pub fn cancel_on_signal(stop: CancellationToken) {
    tokio::spawn(async move {
        signalled().await;
        eprintln!(
            "stopping: letting pages in flight finish and saving the frontier (Ctrl-C again to abort)"
        );
        stop.cancel();
        signalled().await;
        std::process::exit(130);
    });
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn signalled() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
