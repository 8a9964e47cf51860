//! The entry of every HTTP component on Spin. A component's `handle` is one
//! call here with its handler: the request is read whole (bounded), the ports
//! are built on Spin's host, and a user-facing handler also gets the bearer-token
//! verifier, whose identity-provider keys are cached in Redis across requests
//! (a component keeps no memory between requests).

use spin_sdk::http::IncomingRequest;
use spindle_api::auth::Verifier;
use spindle_api::{settings, Ctx, Request, Response, MAX_BODY_BYTES};
use spindle_ports::SystemClock;
use spindle_spin::{SpinDb, SpinHttp, SpinKv, SpinPublisher};

/// The context every handler runs with on Spin.
pub type SpinCtx<'a> = Ctx<'a, SpinDb, SpinPublisher>;

/// Serves a component whose routes need no user (health, metrics, admin).
pub async fn serve(
    req: IncomingRequest,
    handler: impl FnOnce(&SpinCtx<'_>, Request) -> Response,
) -> Response {
    let req = spindle_spin::read_request(req, MAX_BODY_BYTES).await;
    let (db, publisher, config) = spindle_spin::platform(settings::DB_URL, settings::REDIS_URL);
    let ctx = Ctx {
        db: &db,
        publisher: &publisher,
        clock: &SystemClock,
        config: &config,
        http: &SpinHttp,
    };
    handler(&ctx, req)
}

/// Serves a component whose routes act for the user a bearer token names.
pub async fn serve_user(
    req: IncomingRequest,
    handler: impl FnOnce(&SpinCtx<'_>, &Verifier<'_>, Request) -> Response,
) -> Response {
    serve(req, |ctx, req| {
        let cache = SpinKv::from_variable(settings::REDIS_URL);
        let verifier = Verifier::new(settings::auth(ctx.config), &SpinHttp, &cache);
        handler(ctx, &verifier, req)
    })
    .await
}
