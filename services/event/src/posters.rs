//! Event posters, served by `GET /api/events/:id/poster`.
//!
//! The demo catalogue's artwork is built into the binary; any other event gets a plain
//! generated placard with its name, so every event has a poster a client can show.

use std::borrow::Cow;
use std::sync::LazyLock;

use sha2::{Digest, Sha256};

/// `infra/seed/posters/<slug>.svg`, embedded so the service needs no files at run time.
const ARTWORK: &[(&str, &str)] = &[
    (
        "city-lights-comedy-night",
        include_str!("../../../infra/seed/posters/city-lights-comedy-night.svg"),
    ),
    (
        "ink-and-echo-poetry",
        include_str!("../../../infra/seed/posters/ink-and-echo-poetry.svg"),
    ),
    (
        "monsoon-jazz-evenings",
        include_str!("../../../infra/seed/posters/monsoon-jazz-evenings.svg"),
    ),
    (
        "neon-tide-festival",
        include_str!("../../../infra/seed/posters/neon-tide-festival.svg"),
    ),
    (
        "rooftop-indie-sessions",
        include_str!("../../../infra/seed/posters/rooftop-indie-sessions.svg"),
    ),
    (
        "sitar-and-synth",
        include_str!("../../../infra/seed/posters/sitar-and-synth.svg"),
    ),
    (
        "symphony-under-the-stars",
        include_str!("../../../infra/seed/posters/symphony-under-the-stars.svg"),
    ),
    (
        "tabla-tales",
        include_str!("../../../infra/seed/posters/tabla-tales.svg"),
    ),
];

/// Catalogue event id → artwork with its `ETag`, built once (not per request).
static BY_EVENT: LazyLock<Vec<(String, Poster)>> = LazyLock::new(|| {
    let Ok(catalogue) = crate::seed::Catalogue::builtin() else {
        return Vec::new();
    };
    catalogue
        .events
        .iter()
        .filter_map(|e| {
            let (_, svg) = ARTWORK.iter().find(|(slug, _)| *slug == e.slug)?;
            Some((e.id.to_string(), Poster::new(Cow::Borrowed(*svg))))
        })
        .collect()
});

/// A poster: SVG text and its strong validator.
#[derive(Clone)]
pub struct Poster {
    pub svg: Cow<'static, str>,
    pub etag: String,
}

impl Poster {
    fn new(svg: Cow<'static, str>) -> Self {
        let digest = Sha256::digest(svg.as_bytes());
        let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        Self {
            svg,
            etag: format!("\"{hex}\""),
        }
    }
}

/// The built-in artwork of catalogue event `id` (canonical UUID text), if it has one.
pub fn builtin(id: &str) -> Option<Poster> {
    BY_EVENT
        .iter()
        .find(|(event, _)| event == id)
        .map(|(_, poster)| poster.clone())
}

/// A generated placard for an event without artwork.
pub fn placard(name: &str, when: &str) -> Poster {
    let hue = name
        .bytes()
        .fold(0u32, |h, b| (h * 31 + u32::from(b)) % 360);
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="600" height="900" viewBox="0 0 600 900" role="img" aria-label="{label} poster">
  <rect width="600" height="900" fill="hsl({hue},45%,22%)"/>
  <rect x="40" y="40" width="520" height="820" fill="none" stroke="hsl({hue},70%,70%)" stroke-width="4"/>
  <text x="300" y="430" text-anchor="middle" font-family="sans-serif" font-size="40" fill="#fff">{label}</text>
  <text x="300" y="490" text-anchor="middle" font-family="sans-serif" font-size="24" fill="hsl({hue},70%,80%)">{when}</text>
</svg>
"##,
        label = xml_escape(name),
        when = xml_escape(when),
    );
    Poster::new(Cow::Owned(svg))
}

fn xml_escape(text: &str) -> String {
    text.chars()
        .take(60)
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&apos;".to_owned(),
            c if c.is_control() => " ".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// `image_url` of an event whose poster this service serves.
pub fn url(event_id: &str) -> String {
    format!("/api/events/{event_id}/poster")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_event_and_every_file_has_artwork() -> anyhow::Result<()> {
        let catalogue = crate::seed::Catalogue::builtin()?;
        for event in &catalogue.events {
            assert!(builtin(&event.id.to_string()).is_some(), "{}", event.slug);
        }
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/seed/posters");
        for file in std::fs::read_dir(dir)? {
            let name = file?.file_name().to_string_lossy().into_owned();
            let slug = name.trim_end_matches(".svg");
            assert!(
                ARTWORK.iter().any(|(s, _)| *s == slug),
                "{name} is not embedded"
            );
        }
        Ok(())
    }

    #[test]
    fn placards_escape_the_name_and_etags_follow_content() {
        let a = placard("Rock & <Roll>", "2031-01-01");
        assert!(a.svg.contains("Rock &amp; &lt;Roll&gt;"));
        assert!(!a.svg.contains("<Roll>"));
        assert_eq!(a.etag, placard("Rock & <Roll>", "2031-01-01").etag);
        assert_ne!(a.etag, placard("Rock & Roll", "2031-01-01").etag);
        assert!(builtin(&uuid::Uuid::new_v4().to_string()).is_none());
    }
}
