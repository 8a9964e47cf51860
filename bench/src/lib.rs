//! What the benchmark programs share.

pub mod backlog;

use std::sync::OnceLock;

use spindle_api::auth::Verifier;
use spindle_api::{settings, Ctx, Request, Response};
use spindle_native::{RedisKv, RedisPublisher, UreqHttp};
use spindle_ports::{Config, Db};

/// The token verifier a component builds from `config`. The benchmarks sign HS256
/// tokens, which never touch the identity provider's key cache held here.
pub fn verifier(config: &dyn Config) -> Verifier<'_> {
    static HTTP: OnceLock<UreqHttp> = OnceLock::new();
    static KV: OnceLock<RedisKv> = OnceLock::new();
    let http = HTTP.get_or_init(UreqHttp::new);
    let kv = KV.get_or_init(|| RedisKv::new("redis://127.0.0.1:6379"));
    Verifier::new(settings::auth(config), http, kv)
}

/// `tasks-api` as its component serves it.
pub fn tasks_api<D: Db>(ctx: &Ctx<'_, D, RedisPublisher>, req: Request) -> Response {
    spindle_api::tasks_api(ctx, &verifier(ctx.config), req)
}

/// `changes-api` as its component serves it.
pub fn changes_api<D: Db>(ctx: &Ctx<'_, D, RedisPublisher>, req: Request) -> Response {
    spindle_api::changes_api(ctx, &verifier(ctx.config), req)
}
