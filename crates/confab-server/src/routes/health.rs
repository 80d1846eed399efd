//! Readiness: whether this replica can serve right now (`/readyz`), for a load balancer or an
//! orchestrator; liveness (`/healthz`) is in [`super::account`].
//!
//! What it never does: say why in detail to the public (the answer names the failing check,
//! never an error text; the log has the details).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;

use crate::db::DbError;
use crate::state::AppState;

/// How long each check may take before it counts as failed.
const CHECK_WAIT: Duration = Duration::from_secs(3);

/// The answer of `/readyz`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// `ready` or `unavailable`.
    pub status: &'static str,
    /// The database writer thread answers (a no-op write goes through).
    pub database: bool,
    /// The Pusher HTTP API answers a signed query.
    pub pusher: bool,
}

/// Readiness: 200 when the database writer answers and the Pusher HTTP API is reachable, 503
/// naming what is not.
#[utoipa::path(get, path = "/readyz", tag = "meta",
    responses((status = 200, description = "Ready to serve", body = Readiness),
        (status = 503, description = "A dependency is down", body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let db = state.db().clone();
    let database = async move {
        match tokio::time::timeout(CHECK_WAIT, db.write(|_| Ok::<_, DbError>(()))).await {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "not ready: the database writer does not answer");
                false
            }
            Err(_) => {
                tracing::warn!("not ready: the database writer did not answer in time");
                false
            }
        }
    };
    let realtime = state.realtime().clone();
    let pusher = async move {
        match tokio::time::timeout(CHECK_WAIT, realtime.probe()).await {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "not ready: the Pusher HTTP API does not answer");
                false
            }
            Err(_) => {
                tracing::warn!("not ready: the Pusher HTTP API did not answer in time");
                false
            }
        }
    };
    let (database, pusher) = tokio::join!(database, pusher);
    let ready = database && pusher;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Readiness {
            status: if ready { "ready" } else { "unavailable" },
            database,
            pusher,
        }),
    )
}
