//! YAML out of a JSON value: block style, every string written JSON-quoted (a JSON string is a valid
//! YAML double-quoted scalar), so nothing can be misread as a number, a boolean or a comment. No YAML
//! crate needed for writing; readers are ordinary YAML parsers.

use serde_json::Value;

pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    write_block(value, 0, &mut out);
    out
}

fn is_block(value: &Value) -> bool {
    match value {
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => false,
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Object(_) => "{}".to_owned(),
        Value::Array(_) => "[]".to_owned(),
        other => other.to_string(),
    }
}

fn key(name: &str) -> String {
    let plain = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '$'))
        && !name.starts_with(['-', '.', '$']);
    if plain { name.to_owned() } else { Value::String(name.to_owned()).to_string() }
}

fn write_block(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (name, item) in map {
                out.push_str(&format!("{pad}{}:", key(name)));
                if is_block(item) {
                    out.push('\n');
                    write_block(item, indent + 2, out);
                } else {
                    out.push_str(&format!(" {}\n", scalar(item)));
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                if is_block(item) {
                    // The item's block, its first line's indentation replaced by the dash.
                    let mut inner = String::new();
                    write_block(item, indent + 2, &mut inner);
                    out.push_str(&format!("{pad}- {}", &inner[indent + 2..]));
                } else {
                    out.push_str(&format!("{pad}- {}\n", scalar(item)));
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn writes_nested_maps_lists_and_quoted_strings() {
        let value = json!({"a": {"b": [1, {"c": "yes", "d": []}], "e": "#not a comment"}, "x y": null});
        assert_eq!(
            super::to_yaml(&value),
            "a:\n  b:\n    - 1\n    - c: \"yes\"\n      d: []\n  e: \"#not a comment\"\n\"x y\": null\n"
        );
    }
}
