//! Checks that documented routes are really routed.

use reqwest::Method;
use serde_json::Value;

/// Calls every `"METHOD /path"` of `routes` on `base` (`{id}` replaced by a random UUID) and
/// fails if any answer is the router's own `NOT_FOUND` / `METHOD_NOT_ALLOWED` envelope: a
/// documented route that no handler serves.
pub async fn assert_routed(
    client: &reqwest::Client,
    base: &str,
    routes: &[&str],
) -> anyhow::Result<()> {
    let id = uuid::Uuid::new_v4().to_string();
    for route in routes {
        let (method, path) = route
            .split_once(' ')
            .ok_or_else(|| anyhow::anyhow!("{route:?} is not `METHOD /path`"))?;
        let path = path.replace("{id}", &id);
        let response = client
            .request(
                Method::from_bytes(method.as_bytes())?,
                format!("{base}{path}"),
            )
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let code = body["error"]["code"].as_str().unwrap_or_default();
        anyhow::ensure!(
            !matches!(code, "NOT_FOUND" | "METHOD_NOT_ALLOWED"),
            "{route}: {status} {body}"
        );
    }
    Ok(())
}
