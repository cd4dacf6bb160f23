//! `gapmap serve`: load the atlas once and serve the API and map.

use std::net::SocketAddr;
use std::sync::Arc;

use super::args::ServeArgs;
use super::load::load_atlas;
use crate::api::ogc::respond::{with_link_base, LinkBase};
use crate::api::{app, AppState};

/// Runs the server until Ctrl-C.
///
/// # Errors
/// When the atlas cannot be loaded or the address cannot be bound.
pub fn run(args: &ServeArgs) -> Result<(), String> {
    let link_base = LinkBase::new(args.public_url.as_deref(), &args.trusted_proxies)?;
    let atlas = load_atlas(&args.atlas)?;
    let state = Arc::new(AppState::new(atlas));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.bind)
            .await
            .map_err(|e| format!("cannot bind {}: {e}", args.bind))?;
        let addr: SocketAddr = listener.local_addr().map_err(|e| e.to_string())?;
        println!(
            "GapMap serving {} at http://{addr}/",
            state.snapshot().atlas.region.name
        );
        tracing::info!(%addr, "listening");
        // The peer address lets the link base trust configured proxies only.
        let service = with_link_base(app(state), link_base)
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, service)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| format!("server error: {e}"))
    })
}
