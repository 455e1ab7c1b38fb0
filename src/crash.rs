//! Crash points, for the tests that prove durability.
//!
//! In: the environment variable `CCCWATCH_CRASH_AT`, naming one point.
//! Out: when the process reaches that point it aborts at once — no
//! destructors, no rollback, no flush — as `kill -9` would at exactly that
//! instant. Unset (always, in production) a point costs one environment
//! read. The points sit between two durable steps whose order matters
//! (certificates committed / listings re-judged / the judged mark moved), so
//! that tests can show the next command finishes the work.

/// The variable naming the point to crash at.
pub const VAR: &str = "CCCWATCH_CRASH_AT";

/// Aborts the process if `CCCWATCH_CRASH_AT` names `name`.
pub fn point(name: &str) {
    if std::env::var_os(VAR).is_some_and(|v| v == name) {
        eprintln!("{VAR}={name}: aborting here, as kill -9 would");
        std::process::abort();
    }
}
