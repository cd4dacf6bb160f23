//! `gapmap serve`: load the atlas once and serve the API and map.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::args::ServeArgs;
use super::load::load_config;
use crate::analysis::Results;
use crate::api::ogc::respond::{with_link_base, LinkBase};
use crate::api::server::{self, ServerLimits, MIN_HEAD_BYTES};
use crate::api::{app, AppState};
use crate::live::Register;
use crate::sources::register::{self, RegisterStore};

/// Limits on connections and requests (`serve`); see [`ServerLimits`].
/// Durations are a number with a unit: `500ms`, `10s`, `2m` (no unit means
/// seconds).
#[derive(Debug, Clone, clap::Args)]
pub struct LimitArgs {
    /// Connections served at once; further ones wait to be accepted.
    #[arg(long, env = "GAPMAP_MAX_CONNECTIONS", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
    /// Connections one client address may hold at once; beyond it a new
    /// connection gets an immediate 503 with Retry-After, so that one client
    /// cannot take every slot.
    #[arg(long, env = "GAPMAP_MAX_CONNECTIONS_PER_PEER", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections_per_peer: u32,
    /// Time for a request's line and headers to arrive (from connection, or
    /// from the previous response on a keep-alive connection).
    #[arg(long, env = "GAPMAP_HEADER_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub header_timeout: Duration,
    /// Close a connection with no request in progress on which nothing has
    /// moved for this long (idle keep-alive, or a client not reading its response).
    #[arg(long, env = "GAPMAP_IDLE_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub idle_timeout: Duration,
    /// Time budget of one request; after it the client gets 503 with Retry-After.
    #[arg(long, env = "GAPMAP_REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// Largest request body, in bytes (413 beyond).
    #[arg(long, env = "GAPMAP_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Largest body of an upload (a process execution's boundary file, a
    /// register import), in bytes (413 beyond).
    #[arg(long, env = "GAPMAP_MAX_UPLOAD_BYTES", default_value_t = crate::api::server::DEFAULT_MAX_UPLOAD_BYTES)]
    pub max_upload_bytes: usize,
    /// Uploads read at once (each held whole; 503 beyond).
    #[arg(long, env = "GAPMAP_MAX_UPLOADS", default_value_t = crate::api::server::DEFAULT_MAX_UPLOADS)]
    pub max_uploads: usize,
    /// Largest request line plus headers, in bytes (431 beyond; at least 8192).
    #[arg(long, env = "GAPMAP_MAX_HEAD_BYTES", default_value_t = 80 * 1024,
          value_parser = parse_head_bytes)]
    pub max_head_bytes: usize,
}

impl LimitArgs {
    /// The server's limits.
    #[must_use]
    pub fn limits(&self) -> ServerLimits {
        ServerLimits {
            max_connections: self.max_connections as usize,
            max_connections_per_peer: self.max_connections_per_peer as usize,
            header_timeout: self.header_timeout,
            idle_timeout: self.idle_timeout,
            request_timeout: self.request_timeout,
            max_body_bytes: self.max_body_bytes,
            max_upload_bytes: self.max_upload_bytes,
            max_uploads: self.max_uploads.max(1),
            max_head_bytes: self.max_head_bytes,
        }
    }
}

/// Parses `500ms`, `10s`, `2m` or a bare number of seconds; zero is refused.
pub(super) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, ""), |i| text.split_at(i));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("expected a duration such as 500ms, 10s or 2m, got {text:?}"))?;
    let duration = match unit.trim() {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?}: use ms, s or m"
            ))
        }
    };
    if duration.is_zero() {
        return Err("a timeout must be longer than zero".to_owned());
    }
    Ok(duration)
}

fn parse_head_bytes(text: &str) -> Result<usize, String> {
    let n: usize = text
        .trim()
        .parse()
        .map_err(|_| format!("expected a number of bytes, got {text:?}"))?;
    if n < MIN_HEAD_BYTES {
        return Err(format!("must be at least {MIN_HEAD_BYTES}"));
    }
    Ok(n)
}

/// Runs the server until Ctrl-C or SIGTERM.
///
/// # Errors
/// When the atlas cannot be loaded or the address cannot be bound.
pub fn run(args: &ServeArgs) -> Result<(), String> {
    let link_base = LinkBase::new(args.public_url.as_deref(), &args.trusted_proxies)?;
    let config = load_config(&args.atlas)?;
    let loaded = super::prepared::load(
        &args.atlas,
        &config,
        args.cache_dir.as_deref(),
        !args.no_cache,
    )?;
    let base = Arc::new(loaded.atlas);
    let store: Arc<dyn RegisterStore> = Arc::from(
        register::open(args.store.register.as_deref(), &args.store.state_dir)
            .map_err(|e| e.to_string())?,
    );
    let prepared =
        Register::prepare(store.as_ref(), &base, &config.register).map_err(|e| e.to_string())?;
    let crate::live::Prepared {
        atlas,
        entries,
        areas,
        state: register_state,
    } = prepared;
    // The analysis is of the atlas as loaded (what a prepared atlas
    // stores), derived for the categories the register changes.
    let changed = base.categories_differing(&atlas);
    let (tables, write_to) = (loaded.tables, loaded.write_to);
    let snapshot = crate::api::Snapshot::build_with(Arc::new(atlas), |joined| {
        let analysis = super::prepared::analysis(&base, tables, write_to);
        Results::with_analysis(joined, analysis.derived(joined, &changed))
    });
    drop(base);
    let mut state = AppState::from_snapshot(snapshot.with_register(entries).with_areas(areas));
    state.read_access = args.read_access;
    let state = Arc::new(state);
    let live = Arc::new(Register::new(
        Arc::clone(&store),
        state.publisher(),
        config.register.clone(),
        register_state,
    ));
    state.attach_register(Arc::clone(&live));
    tracing::info!(store = %live.location(), entries = state.snapshot().register.len(), "register attached");
    let limits = args.limits.limits();
    match server::raise_open_file_limit() {
        Ok(files) => {
            tracing::info!(before = files.before, now = files.now, "open-file limit");
            // One descriptor per connection, plus data files, register and log.
            if files.now < limits.max_connections as u64 + 64 {
                tracing::warn!(
                    open_files = files.now,
                    max_connections = limits.max_connections,
                    "the open-file limit is close to the connection limit; lower --max-connections or raise the hard limit"
                );
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot raise the open-file limit"),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.bind)
            .await
            .map_err(|e| format!("cannot bind {}: {e}", args.bind))?;
        let addr: SocketAddr = listener.local_addr().map_err(|e| e.to_string())?;
        let stop = stop_signal()?;
        println!(
            "GapMap serving {} at http://{addr}/",
            state.snapshot().atlas.region.name
        );
        tracing::info!(%addr, "listening");
        tokio::spawn(Arc::clone(&live).follow(args.follow_interval));
        // The peer address lets the link base trust configured proxies only.
        let router = with_link_base(app(state), link_base);
        server::serve(listener, router, limits, stop)
            .await
            .map_err(|e| format!("server error: {e}"))
    })
}

/// Registers for Ctrl-C and (on Unix) SIGTERM now, before the server is
/// announced, so that a signal sent as soon as the address is printed
/// stops the server gracefully instead of killing the process; the returned
/// future completes on either signal.
#[cfg(unix)]
fn stop_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt =
        signal(SignalKind::interrupt()).map_err(|e| format!("cannot handle Ctrl-C: {e}"))?;
    let mut terminate =
        signal(SignalKind::terminate()).map_err(|e| format!("cannot handle SIGTERM: {e}"))?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
        tracing::info!("shutting down");
    })
}

/// Completes on Ctrl-C.
#[cfg(not(unix))]
#[allow(clippy::unnecessary_wraps)] // the same signature as on Unix
fn stop_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units_and_refuse_zero_and_nonsense() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_mins(2)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("10h").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn head_bytes_below_hypers_minimum_are_refused() {
        assert!(parse_head_bytes("8191").is_err());
        assert_eq!(parse_head_bytes("8192"), Ok(8192));
    }
}
