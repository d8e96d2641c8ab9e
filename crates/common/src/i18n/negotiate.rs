//! The browser's `Accept-Language` (RFC 9110 §12.5.4): the supported language with the
//! highest weight, earlier entries winning ties; `q=0` means "not this one".

use super::Lang;

/// The language to serve for an `Accept-Language` header, if it names one we speak.
pub fn from_accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(Lang, f32)> = None;
    for entry in header.split(',') {
        let mut parts = entry.split(';');
        let tag = parts.next().unwrap_or("").trim();
        let weight = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let Some(lang) = Lang::parse(tag) else {
            continue;
        };
        if weight > 0.0 && best.is_none_or(|(_, w)| weight > w) {
            best = Some((lang, weight));
        }
    }
    best.map(|(lang, _)| lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_heaviest_supported_language_wins() {
        assert_eq!(
            from_accept_language("fr-FR,fr;q=0.9,en;q=0.8"),
            Some(Lang::Fr)
        );
        assert_eq!(
            from_accept_language("en-GB,en;q=0.9,fr;q=0.8"),
            Some(Lang::En)
        );
        assert_eq!(
            from_accept_language("de-DE,de;q=0.9,fr;q=0.5"),
            Some(Lang::Fr)
        );
        assert_eq!(
            from_accept_language("de;q=1, en;q=0.2, fr;q=0.7"),
            Some(Lang::Fr)
        );
        assert_eq!(
            from_accept_language("de-DE,es"),
            None,
            "unsupported: the caller's default"
        );
        assert_eq!(from_accept_language("fr;q=0, en;q=0.1"), Some(Lang::En));
        assert_eq!(from_accept_language(""), None);
        assert_eq!(from_accept_language("*"), None);
    }
}
