//! `/api/push/...`: what a browser needs before it subscribes to Web Push.

use http::StatusCode;
use serde_json::json;
use spindle_ports::{Db, Publisher};
use spindle_webpush::VapidKey;

use crate::problem::ApiError;
use crate::respond::json;
use crate::{settings, Ctx, Response};

/// `GET /api/push/vapid-public-key`: the `applicationServerKey` for
/// `pushManager.subscribe`, the public half of `vapid_private_key`.
pub fn vapid_public_key<D: Db, P: Publisher>(ctx: &Ctx<'_, D, P>) -> Result<Response, ApiError> {
    // A deployment without a key has no Web Push; the rest of the API works regardless.
    let raw = ctx.config.get(settings::VAPID_PRIVATE_KEY).ok_or_else(|| {
        ApiError::Unavailable(
            "Web Push is not set up on this server: its vapid_private_key variable is empty \
             (an operator generates one with `spindle-vapid-keys`)"
                .into(),
        )
    })?;
    let key = VapidKey::from_base64url(&raw).map_err(|e| {
        ApiError::Unavailable(format!("Web Push is not set up on this server: {e}"))
    })?;
    Ok(json(
        StatusCode::OK,
        &json!({ "public_key": key.public_key() }),
    ))
}
