//! Wire frames of Pusher Channels protocol 7: decoding that never panics, and encoding.
//!
//! A frame is a JSON object `{"event": .., "channel": .., "data": .., "user_id": ..}`. Servers
//! disagree on the shape of `data`: hosted Pusher sends a JSON-encoded *string*, some self-hosted
//! servers send an object, user events may carry a string that is not JSON at all, and pings carry
//! nothing. [`Frame::decode`] accepts all of them and normalises `data` into [`Data`].

use std::borrow::Cow;
use std::fmt;

use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
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

/// A string member, or `None` for any other JSON type (never an error). A visitor rather than
/// an untagged enum: that would first buffer every member into serde's generic content tree.
fn string_or_none<'de, D>(d: D) -> Result<Option<Cow<'de, str>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct StringOrNone;

    impl<'de> Visitor<'de> for StringOrNone {
        type Value = Option<Cow<'de, str>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }

        fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Borrowed(v)))
        }

        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_owned())))
        }

        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v)))
        }

        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }

    d.deserialize_any(StringOrNone)
}

/// Largest scratch buffer kept between frames: one huge frame must not pin its size forever.
const SCRATCH_KEEP: usize = 64 << 10;

/// Unescapes the JSON string literal `raw` (quotes included) into `out`, for the escapes every
/// encoder writes. `None` leaves the literal to serde_json: `\u` escapes (surrogate pairs and
/// their errors) and anything malformed, so errors read exactly as before.
fn unescape_common(raw: &str, out: &mut String) -> Option<()> {
    let body = raw.strip_prefix('"')?.strip_suffix('"')?;
    out.clear();
    out.reserve(body.len());
    let mut rest = body;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        // Escapes are ASCII, so `i + 2` is a character boundary.
        out.push(match rest.as_bytes().get(i + 1)? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            _ => return None,
        });
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    Some(())
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
        Frame::decode_with(text, limit, &mut String::new())
    }

    /// [`Frame::decode`] with a buffer the caller keeps between frames (the unescaped text of a
    /// string `data`, parsed from there), so a stream of frames does not allocate it each time.
    ///
    /// # Errors
    /// As [`Frame::decode`].
    pub fn decode_with(
        text: &str,
        limit: usize,
        scratch: &mut String,
    ) -> Result<Frame, FrameError> {
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
                    let data = if unescape_common(t, scratch).is_some() {
                        match serde_json::from_str::<Value>(scratch) {
                            // A JSON *string* inside a string stays text, as in `from_value`.
                            Ok(parsed) if !parsed.is_string() => Data::Json(parsed),
                            _ => Data::Text(scratch.clone()),
                        }
                    } else {
                        let s: String = serde_json::from_str(t)
                            .map_err(|e| FrameError::Malformed(e.to_string()))?;
                        Data::from_value(Some(Value::String(s)))
                    };
                    if scratch.capacity() > SCRATCH_KEEP {
                        *scratch = String::new();
                    }
                    data
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
    fn string_data_unescapes_exactly_as_serde_json_does() {
        for raw in [
            r#""""#,
            r#""plain""#,
            r#""{\"a\":\"x\\\"y\"}""#,
            r#""tab\tnew\nline\r\b\f\/ \\""#,
            r#""caf\u00e9 \ud83d\ude00""#,
            r#""lone \ud83d""#,
            r#""\q""#,
            "\"unicode é 😀 stays\"",
        ] {
            let want = serde_json::from_str::<String>(raw).ok();
            let mut out = String::from("leftover");
            let got = unescape_common(raw, &mut out).map(|()| out);
            if let Some(got) = got {
                assert_eq!(Some(got), want, "{raw}");
            }
            let frame = format!(r#"{{"event":"e","data":{raw}}}"#);
            let from_value = want.map(|s| Data::from_value(Some(Value::String(s))));
            assert_eq!(
                Frame::decode(&frame, LIMIT).ok().map(|f| f.data),
                from_value
            );
        }
    }

    #[test]
    fn a_reused_scratch_buffer_gives_the_same_frames() {
        let mut scratch = String::new();
        for text in [
            r#"{"event":"e","channel":"c","data":"{\"a\":1}"}"#,
            r#"{"event":"e","data":"short"}"#,
            r#"{"event":"e","data":"{\"b\":[true]}"}"#,
        ] {
            assert_eq!(
                Frame::decode_with(text, LIMIT, &mut scratch),
                Frame::decode(text, LIMIT)
            );
        }
    }

    #[test]
    fn event_and_channel_of_other_types_are_ignored_not_fatal() {
        let f = Frame::decode(
            r#"{"event":"e","channel":{"x":[1,{"y":2}]},"data":{}}"#,
            LIMIT,
        )
        .unwrap();
        assert_eq!(f.channel, None);
        let f = Frame::decode(r#"{"event":"e\u0041","channel":["c"]}"#, LIMIT).unwrap();
        assert_eq!(f.event, "eA");
        assert_eq!(f.channel, None);
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
