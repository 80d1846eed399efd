//! Wire frames of Pusher Channels protocol 7: decoding that never panics, and encoding.
//!
//! A frame is a JSON object `{"event": .., "channel": .., "data": .., "user_id": ..}`. Servers
//! disagree on the shape of `data`: hosted Pusher sends a JSON-encoded *string*, some self-hosted
//! servers send an object, user events may carry a string that is not JSON at all, and pings carry
//! nothing. [`Frame::decode`] accepts all of them and normalises `data` into [`Data`].

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// The wire shape, borrowed from the input. Unknown members are ignored; members of the wrong
/// type make the frame malformed (an `event` that is not a string: no event).
#[derive(Deserialize)]
struct RawFrame<'a> {
    #[serde(borrow, default, deserialize_with = "string_or_none")]
    event: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "string_or_none")]
    channel: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(default)]
    user_id: Option<Value>,
}

/// A string member, or `None` for any other JSON type (never an error).
fn string_or_none<'de, D>(d: D) -> Result<Option<Cow<'de, str>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Maybe<'a> {
        Str(#[serde(borrow)] Cow<'a, str>),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Maybe::deserialize(d)? {
        Maybe::Str(s) => Some(s),
        Maybe::Other(_) => None,
    })
}

/// The `data` member of a frame, normalised.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// No `data` member (or `null`).
    None,
    /// JSON: either sent as an object/array/number, or as a string holding valid JSON.
    Json(Value),
    /// A string that is not JSON (delivered as-is).
    Text(String),
}

impl Data {
    /// Decodes the raw `data` member: a string is parsed as JSON when it is JSON.
    pub fn from_value(v: Option<Value>) -> Self {
        match v {
            None | Some(Value::Null) => Data::None,
            Some(Value::String(s)) => match serde_json::from_str::<Value>(&s) {
                // A JSON *string* inside a string stays text: `"\"hi\""` means the text `"hi"`.
                Ok(parsed) if !parsed.is_string() => Data::Json(parsed),
                _ => Data::Text(s),
            },
            Some(other) => Data::Json(other),
        }
    }

    /// The data as a JSON value (`Null` for none, a string for text).
    pub fn to_value(&self) -> Value {
        match self {
            Data::None => Value::Null,
            Data::Json(v) => v.clone(),
            Data::Text(s) => Value::String(s.clone()),
        }
    }

    /// The JSON object, if the data is one.
    pub fn as_object(&self) -> Option<&Map<String, Value>> {
        match self {
            Data::Json(Value::Object(m)) => Some(m),
            _ => None,
        }
    }

    /// A string field of an object payload.
    pub fn str_field(&self, key: &str) -> Option<&str> {
        self.as_object()?.get(key)?.as_str()
    }
}

/// One decoded inbound frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// Event name, e.g. `pusher:connection_established` or `new-message`.
    pub event: String,
    /// Channel the event belongs to, if any.
    pub channel: Option<String>,
    /// Normalised payload.
    pub data: Data,
    /// Sender of a client event on a presence channel.
    pub user_id: Option<String>,
}

/// Why a frame could not be decoded. The connection stays up; the frame is dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Larger than the configured limit; dropped without parsing.
    #[error("frame of {len} bytes exceeds the {limit}-byte limit")]
    TooLarge {
        /// Size of the frame in bytes.
        len: usize,
        /// The configured limit.
        limit: usize,
    },
    /// Not JSON, or not an object.
    #[error("frame is not a JSON object: {0}")]
    Malformed(String),
    /// An object without a string `event` member.
    #[error("frame has no event name")]
    MissingEvent,
}

impl Frame {
    /// Decodes a text frame of at most `limit` bytes. Never panics on any input.
    ///
    /// # Errors
    /// [`FrameError`] when the frame is too large, not a JSON object, or has no event name.
    pub fn decode(text: &str, limit: usize) -> Result<Frame, FrameError> {
        if text.len() > limit {
            return Err(FrameError::TooLarge {
                len: text.len(),
                limit,
            });
        }
        // Borrowing decode: the outer object is never built as a map, and `data` is parsed
        // once, from its raw text (this is the client's hot path).
        let raw: RawFrame<'_> = serde_json::from_str(text).map_err(|e| match e.classify() {
            serde_json::error::Category::Data if text.trim_start().starts_with('{') => {
                FrameError::MissingEvent
            }
            _ => FrameError::Malformed(e.to_string()),
        })?;
        let event = raw.event.ok_or(FrameError::MissingEvent)?.into_owned();
        let data = match raw.data {
            None => Data::None,
            Some(r) => {
                let t = r.get();
                if t.starts_with('"') {
                    let s: String = serde_json::from_str(t)
                        .map_err(|e| FrameError::Malformed(e.to_string()))?;
                    Data::from_value(Some(Value::String(s)))
                } else {
                    Data::from_value(Some(
                        serde_json::from_str(t)
                            .map_err(|e| FrameError::Malformed(e.to_string()))?,
                    ))
                }
            }
        };
        let user_id = match raw.user_id {
            Some(Value::String(s)) => Some(s),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        Ok(Frame {
            event,
            channel: raw.channel.map(std::borrow::Cow::into_owned),
            data,
            user_id,
        })
    }
}

/// Encodes an outbound frame. `data` is sent as an object, which every server accepts for
/// `pusher:*` events; client events carry it the same way, as pusher-js does.
pub fn encode(event: &str, channel: Option<&str>, data: &Value) -> String {
    let mut obj = Map::new();
    obj.insert("event".into(), Value::String(event.to_owned()));
    if let Some(c) = channel {
        obj.insert("channel".into(), Value::String(c.to_owned()));
    }
    obj.insert("data".into(), data.clone());
    Value::Object(obj).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LIMIT: usize = 1 << 16;

    #[test]
    fn data_sent_as_a_json_string_is_parsed() {
        let f = Frame::decode(r#"{"event":"e","channel":"c","data":"{\"a\":1}"}"#, LIMIT).unwrap();
        assert_eq!(f.data, Data::Json(json!({"a":1})));
        assert_eq!(f.channel.as_deref(), Some("c"));
    }

    #[test]
    fn data_sent_as_an_object_is_kept() {
        let f = Frame::decode(r#"{"event":"e","data":{"a":[1,2]}}"#, LIMIT).unwrap();
        assert_eq!(f.data, Data::Json(json!({"a":[1,2]})));
        assert_eq!(f.channel, None);
    }

    #[test]
    fn data_that_is_not_json_is_delivered_as_text() {
        let f = Frame::decode(r#"{"event":"e","data":"hello {world"}"#, LIMIT).unwrap();
        assert_eq!(f.data, Data::Text("hello {world".into()));
        let f = Frame::decode(r#"{"event":"e","data":"\"quoted\""}"#, LIMIT).unwrap();
        assert_eq!(f.data, Data::Text("\"quoted\"".into()));
    }

    #[test]
    fn missing_or_null_data_is_none() {
        assert_eq!(
            Frame::decode(r#"{"event":"pusher:ping"}"#, LIMIT)
                .unwrap()
                .data,
            Data::None
        );
        assert_eq!(
            Frame::decode(r#"{"event":"x","data":null}"#, LIMIT)
                .unwrap()
                .data,
            Data::None
        );
    }

    #[test]
    fn numeric_user_id_is_read_as_a_string() {
        let f = Frame::decode(r#"{"event":"client-x","user_id":42,"data":{}}"#, LIMIT).unwrap();
        assert_eq!(f.user_id.as_deref(), Some("42"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            "",
            "{",
            "[]",
            "42",
            "null",
            r#"{"data":1}"#,
            r#"{"event":5}"#,
            "\u{0}",
        ] {
            assert!(Frame::decode(bad, LIMIT).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_frame_over_the_limit_is_refused_before_parsing() {
        let big = format!(r#"{{"event":"e","data":"{}"}}"#, "x".repeat(100));
        assert!(matches!(
            Frame::decode(&big, 50),
            Err(FrameError::TooLarge { limit: 50, .. })
        ));
    }

    #[test]
    fn encode_writes_event_channel_and_data() {
        let s = encode("pusher:subscribe", None, &json!({"channel":"c"}));
        let v: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(
            v,
            json!({"event":"pusher:subscribe","data":{"channel":"c"}})
        );
    }
}
