//! `config` entries become `-c key=<TOML value>` arguments; this renders JSON values as TOML.

use serde_json::Value;

pub fn toml_value(v: &Value) -> Result<String, String> {
    Ok(match v {
        Value::Null => return Err("null has no TOML form".into()),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => toml_string(s),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(toml_value).collect::<Result<Vec<_>, _>>()?.join(", ")
        ),
        Value::Object(o) => {
            let fields = o
                .iter()
                .map(|(k, v)| Ok(format!("{} = {}", toml_key(k), toml_value(v)?)))
                .collect::<Result<Vec<_>, String>>()?;
            format!("{{{}}}", fields.join(", "))
        }
    })
}

fn toml_key(k: &str) -> String {
    if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        k.to_owned()
    } else {
        toml_string(k)
    }
}

fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_toml_literals() {
        assert_eq!(toml_value(&json!("o3")).unwrap(), "\"o3\"");
        assert_eq!(toml_value(&json!("a\"b\\c\n")).unwrap(), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(toml_value(&json!(3)).unwrap(), "3");
        assert_eq!(toml_value(&json!(0.5)).unwrap(), "0.5");
        assert_eq!(toml_value(&json!(true)).unwrap(), "true");
        assert_eq!(toml_value(&json!(["x", 1])).unwrap(), "[\"x\", 1]");
        assert_eq!(
            toml_value(&json!({"a": 1, "b c": "d"})).unwrap(),
            "{a = 1, \"b c\" = \"d\"}"
        );
        assert!(toml_value(&json!(null)).is_err());
    }
}
