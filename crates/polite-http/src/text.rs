//! [`server_text`]: the one sanitiser for text a server (or a downloaded file) wrote, before it
//! goes into a one-line error message.

/// Longest server text kept in an error message, in characters.
pub const MAX_SERVER_TEXT: usize = 300;

/// Server text made safe for a one-line error: invalid UTF-8 replaced, every control character
/// (newlines, tabs, ANSI escapes, C1 controls) and bidirectional override turned into a space,
/// runs of spaces collapsed, trimmed, and cut at `max_chars` characters (an ellipsis marks the
/// cut). A terminal shows it as plain text on the current line.
pub fn server_text(raw: &[u8], max_chars: usize) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len().min(max_chars * 4));
    let mut chars = 0usize;
    let mut pending_space = false;
    for c in text.chars() {
        let invisible = c.is_control()
            || c.is_whitespace()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}');
        if invisible {
            pending_space = !out.is_empty();
            continue;
        }
        if chars + usize::from(pending_space) >= max_chars {
            out.push('…');
            return out;
        }
        if pending_space {
            out.push(' ');
            chars += 1;
            pending_space = false;
        }
        out.push(c);
        chars += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_escapes_and_newlines_become_single_spaces() {
        let raw = b"Bad request\r\n\x1b[31mFAKE: rm -rf\x1b[0m\n\n\tend\x07 \xff";
        assert_eq!(server_text(raw, 100), "Bad request [31mFAKE: rm -rf [0m end \u{FFFD}");
        assert_eq!(server_text("a\u{202E}b\u{0085}c".as_bytes(), 100), "a b c");
        assert_eq!(server_text(b"  \n ", 100), "");
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(server_text(b"abcdef", 3), "abc…");
        assert_eq!(server_text(b"ab cd", 3), "ab…");
        assert_eq!(server_text("ééé".as_bytes(), 3), "ééé");
    }
}
