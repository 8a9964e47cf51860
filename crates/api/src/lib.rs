//! HTTP handling of every Spindle route, from an `http::Request` to a response,
//! written against the ports so Spin components and native tests run the same code.
//!
//! Each component calls one entry point: [`tasks_api`], [`tags_api`],
//! [`changes_api`], [`channels_api`] or [`ops`]; the MCP endpoint reaches the same
//! handlers through [`serve_as`].

mod changes;
mod channels;
mod cors;
mod input;
mod metrics;
pub mod openapi;
mod ops;
mod problem;
mod push;
mod respond;
mod router;
pub mod settings;
mod tags;
mod tasks;
mod views;
mod write;

use spindle_ports::{Clock, Config, Db, HttpClient, Publisher};

pub use cors::Cors;
pub use problem::{ApiError, MAX_BODY_BYTES};
pub use respond::{check_size, require_json};
pub use router::{request_id, tag_response, Route, REQUEST_ID};
/// Token verification, re-exported so callers of the API name one crate.
pub use spindle_auth as auth;
use spindle_auth::{UserId, Verifier};
/// A task as clients see it, also the `task` of its events.
pub use views::task as task_view;

pub type Request = http::Request<Vec<u8>>;
pub type Response = http::Response<Vec<u8>>;

/// What a request is handled with: the platform behind the ports.
pub struct Ctx<'a, D, P> {
    pub db: &'a D,
    pub publisher: &'a P,
    pub clock: &'a dyn Clock,
    pub config: &'a dyn Config,
    /// Outbound HTTP (webhook test pings); a component that calls nothing out
    /// still has one, and its manifest allows no host.
    pub http: &'a dyn HttpClient,
}

impl<D: Db, P: Publisher> Ctx<'_, D, P> {
    fn now(&self) -> spindle_domain::Instant {
        spindle_domain::Instant::from_micros(self.clock.now_micros())
    }
}

/// `/api/tasks/...`
pub fn tasks_api<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    verifier: &Verifier<'_>,
    req: Request,
) -> Response {
    router::serve_user(ctx, verifier, &req, &tasks::routes())
}

/// `/api/tags/...`
pub fn tags_api<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    verifier: &Verifier<'_>,
    req: Request,
) -> Response {
    router::serve_user(ctx, verifier, &req, &tags::routes())
}

/// `/api/changes` and `/api/tasks/{id}/history`
pub fn changes_api<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    verifier: &Verifier<'_>,
    req: Request,
) -> Response {
    router::serve_user(ctx, verifier, &req, &changes::routes())
}

/// Serves `req` as `user`, already authenticated by the caller, with the handler of
/// whichever user-facing route it names: the same code, checks and answers as over
/// HTTP, without CORS. The MCP tools call the API through this.
pub fn serve_as<D: Db, P: Publisher>(ctx: &Ctx<'_, D, P>, user: &UserId, req: Request) -> Response {
    let mut routes = tasks::routes();
    routes.extend(tags::routes());
    routes.extend(changes::routes());
    router::serve_authenticated(ctx, user, &req, &routes)
}

/// `/api/channels/...`, `/api/notifications/...` and `/api/push/...`
pub fn channels_api<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    verifier: &Verifier<'_>,
    req: Request,
) -> Response {
    router::serve_user(ctx, verifier, &req, &channels::routes())
}

/// Health, readiness, migrations, the relay tick, dead letters, the OpenAPI document.
pub fn ops<D: Db, P: Publisher>(ctx: &Ctx<'_, D, P>, req: Request) -> Response {
    router::serve_ops(ctx, &req, &ops::routes())
}

/// Every `(method, path)` routed by any component, for the OpenAPI check.
///
/// The tables are generic over the ports; any `Db` and `Publisher` list the
/// same routes.
pub fn all_routes<D: Db, P: Publisher>() -> Vec<(&'static str, &'static str)> {
    fn pairs<H>(routes: Vec<Route<H>>) -> impl Iterator<Item = (&'static str, &'static str)> {
        routes.into_iter().map(|r| (r.method, r.path))
    }
    pairs(tasks::routes::<D, P>())
        .chain(pairs(tags::routes::<D, P>()))
        .chain(pairs(changes::routes::<D, P>()))
        .chain(pairs(channels::routes::<D, P>()))
        .chain(pairs(ops::routes::<D, P>()))
        .collect()
}
