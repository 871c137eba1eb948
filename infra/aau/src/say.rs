//! Everything `aau` writes to stderr goes through [`say`]: one `aau: ` at the
//! start of every line, and no character that could act on what reads the
//! log. Server text (an error message, a field name, an id) is not trusted:
//! a newline in it could start a line a CI runner takes as a command
//! (GitHub's `::warning::…`, `::add-mask::…`), an escape sequence could
//! rewrite the terminal, a bidi override could make text read differently.

use std::io::Write;

/// `text` with every control character (C0, DEL, C1: newlines and ESC
/// included), bidi control and line or paragraph separator replaced by
/// U+FFFD, and GitHub's older `##[command]` syntax (honoured anywhere in a
/// line) broken up. For text from the server, before it goes into a
/// message.
pub fn clean(text: &str) -> String {
    let replaced: String = text
        .chars()
        .map(|c| if unsafe_char(c) { '\u{FFFD}' } else { c })
        .collect();
    replaced.replace("##[", "## [")
}

fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200E}' | '\u{200F}'            // left-to-right, right-to-left marks
            | '\u{2028}' | '\u{2029}'          // line and paragraph separators
            | '\u{202A}'..='\u{202E}'          // embeddings and overrides
            | '\u{2066}'..='\u{2069}'          // isolates
        )
}

/// Writes `message` to stderr, each of its lines (aau's own structure, e.g.
/// a 400's field errors) as `aau: <line>`, cleaned. A closed stderr is
/// ignored: there is nowhere else to say it.
pub fn say(message: &str) {
    let mut out = std::io::stderr().lock();
    for line in message.split('\n') {
        let _ = writeln!(out, "aau: {}", clean(line));
    }
}

/// A warning: `aau: warning: …`, one line.
pub fn warn(message: &str) {
    say(&format!("warning: {}", clean(message)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_workflow_commands_are_neutralised() {
        assert_eq!(clean("plain text: ok"), "plain text: ok");
        assert_eq!(
            clean("bad\n::warning::owned"),
            "bad\u{FFFD}::warning::owned"
        );
        assert_eq!(
            clean("\u{1b}[2J\u{1b}]0;title\u{7}"),
            "\u{FFFD}[2J\u{FFFD}]0;title\u{FFFD}"
        );
        assert_eq!(clean("a\r\u{85}b\u{9b}c"), "a\u{FFFD}\u{FFFD}b\u{FFFD}c");
        assert_eq!(clean("x ##[error]y"), "x ## [error]y");
        assert_eq!(clean("\u{202E}txt.exe\u{2028}"), "\u{FFFD}txt.exe\u{FFFD}");
        assert_eq!(clean("Mettez à jour 🎉"), "Mettez à jour 🎉");
    }
}
