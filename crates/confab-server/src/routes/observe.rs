//! The router's watch posts: the middleware that counts requests for the metrics, the one that
//! caps requests in flight per client address, and the metrics listener's own router.
//!
//! What it never does: serve the metrics on the public router (see [`metrics_router`]).

use std::time::Instant;

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::auth::ClientIp;
use crate::error::AppError;
use crate::in_flight::InFlight;
use crate::metrics;
use crate::state::AppState;

/// Counts every request the router answers (timeouts and limits included: it sits outside
/// them) under its route template.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // Unmatched paths share one label: a scanner's random paths must not grow the series.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    state.http_metrics().record(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// Frees the slot when the request is done, answered or dropped (a client that hung up).
struct Slot<'a> {
    flight: &'a InFlight,
    ip: std::net::IpAddr,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.flight.leave(self.ip);
    }
}

/// Answers 429 (`Retry-After: 1`) when the client's address already has its share of
/// requests in flight (see [`crate::in_flight`]).
pub async fn limit_in_flight(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let Ok(ClientIp(ip)) = ClientIp::from_request_parts(&mut parts, &state).await;
    let flight = state.in_flight();
    if !flight.enter(ip, state.per_address_in_flight()) {
        return AppError::TooManyInFlight.into_response();
    }
    let _slot = Slot { flight, ip };
    next.run(Request::from_parts(parts, body)).await
}

/// The metrics listener's router (`CONFAB_METRICS_BIND`): `GET /metrics`. Never merged into
/// the public router.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(state)
}

async fn scrape(State(state): State<AppState>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics::render(
            state.http_metrics(),
            state.realtime().stats(),
            state.db().writer_stats(),
        ),
    )
        .into_response()
}
