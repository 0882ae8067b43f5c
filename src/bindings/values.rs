//! Reading plain JS values into Rust ones, with errors that name the option and say what was
//! found. Every conversion is total: no JS value can make it panic.

use crate::prelude::*;

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::client::ConfigError;
use crate::core::scheduler::UNLIMITED;

/// A short description of a JS value for error messages: `"x"` (a string), `0`, `NaN`,
/// `an object`, `an array`, `a function`, `null`, `undefined`.
pub(crate) fn describe(value: &JsValue) -> String {
    if let Some(s) = value.as_string() {
        let mut out = String::from("\"");
        out.extend(s.chars().take(40));
        out.push('"');
        return out;
    }
    if let Some(n) = value.as_f64() {
        return js_sys::Number::from(n).to_string_with_radix(10).map(String::from).unwrap_or_default();
    }
    if let Some(b) = value.as_bool() {
        return if b { "true".into() } else { "false".into() };
    }
    if value.is_null() {
        return "null".into();
    }
    if value.is_undefined() {
        return "undefined".into();
    }
    if value.is_function() {
        return "a function".into();
    }
    if Array::is_array(value) {
        return "an array".into();
    }
    "an object".into()
}

/// `error`, with " (got …)" appended.
pub(crate) fn got(mut error: ConfigError, value: &JsValue) -> ConfigError {
    error.message.push_str(" (got ");
    error.message.push_str(&describe(value));
    error.message.push(')');
    error
}

/// `path.key`, or `key` when `path` is empty.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        return key.to_owned();
    }
    let mut s = String::from(path);
    s.push('.');
    s.push_str(key);
    s
}

/// Reads an optional options object: `undefined` and `null` give `None`; anything else that
/// is not a plain object is a `TypeError` naming `name`.
pub(crate) fn options_object(value: &JsValue, name: &str) -> Result<Option<Object>, ConfigError> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    if !value.is_object() || value.is_function() || Array::is_array(value) {
        return Err(got(ConfigError::type_error(name, "must be an object"), value));
    }
    Ok(Some(value.clone().unchecked_into()))
}

/// Refuses any own key of `object` not in `known`, so that a misspelt option never passes
/// silently.
pub(crate) fn check_keys(object: &Object, known: &[&str], path: &str) -> Result<(), ConfigError> {
    for key in Object::keys(object).iter() {
        let key = key.as_string().unwrap_or_default();
        if !known.contains(&key.as_str()) {
            let mut message = String::from("is not a known option");
            if !path.is_empty() {
                message.push_str(" of `");
                message.push_str(path);
                message.push('`');
            }
            message.push_str("; known: ");
            message.push_str(&known.join(", "));
            return Err(ConfigError::type_error(&join(path, &key), &message));
        }
    }
    Ok(())
}

/// `object[key]`, with `undefined` as `None`. A throwing getter counts as absent.
pub(crate) fn get(object: &Object, key: &str) -> Option<JsValue> {
    Reflect::get(object, &JsValue::from_str(key)).ok().filter(|v| !v.is_undefined())
}

pub(crate) fn number(value: &JsValue, name: &str) -> Result<f64, ConfigError> {
    value
        .as_f64()
        .ok_or_else(|| got(ConfigError::type_error(name, "must be a number"), value))
}

/// A positive integer or `Infinity` (as [`UNLIMITED`]).
pub(crate) fn limit(value: &JsValue, name: &str) -> Result<usize, ConfigError> {
    let n = value
        .as_f64()
        .ok_or_else(|| got(ConfigError::type_error(name, "must be a positive integer or Infinity"), value))?;
    if n == f64::INFINITY {
        return Ok(UNLIMITED);
    }
    if !(n >= 1.0) || n % 1.0 != 0.0 || n > 9_007_199_254_740_991.0 {
        return Err(got(ConfigError::range_error(name, "must be a positive integer or Infinity"), value));
    }
    Ok(n as usize)
}

/// A whole number `>= min`.
pub(crate) fn integer(value: &JsValue, name: &str, min: f64) -> Result<f64, ConfigError> {
    let n = number(value, name)?;
    if !(n >= min) || n % 1.0 != 0.0 || n.is_infinite() {
        let expected = if min > 0.0 { "must be a positive integer" } else { "must be an integer >= 0" };
        return Err(got(ConfigError::range_error(name, expected), value));
    }
    Ok(n)
}

/// A positive, finite number of milliseconds.
pub(crate) fn positive_ms(value: &JsValue, name: &str) -> Result<f64, ConfigError> {
    let n = number(value, name)?;
    if !(n > 0.0) || n.is_infinite() {
        return Err(got(ConfigError::range_error(name, "must be a positive, finite number of milliseconds"), value));
    }
    Ok(n)
}

/// A finite number `>= 0`.
pub(crate) fn non_negative(value: &JsValue, name: &str) -> Result<f64, ConfigError> {
    let n = number(value, name)?;
    if !(n >= 0.0) || n.is_infinite() {
        return Err(got(ConfigError::range_error(name, "must be a finite number >= 0"), value));
    }
    Ok(n)
}

pub(crate) fn boolean(value: &JsValue, name: &str) -> Result<bool, ConfigError> {
    value
        .as_bool()
        .ok_or_else(|| got(ConfigError::type_error(name, "must be true or false"), value))
}

pub(crate) fn string(value: &JsValue, name: &str) -> Result<String, ConfigError> {
    value
        .as_string()
        .ok_or_else(|| got(ConfigError::type_error(name, "must be a string"), value))
}

pub(crate) fn function(value: &JsValue, name: &str) -> Result<js_sys::Function, ConfigError> {
    value
        .clone()
        .dyn_into::<js_sys::Function>()
        .map_err(|v| got(ConfigError::type_error(name, "must be a function"), &v))
}

/// An array, as a Rust vector of its elements.
pub(crate) fn array(value: &JsValue, name: &str) -> Result<Vec<JsValue>, ConfigError> {
    if !Array::is_array(value) {
        return Err(got(ConfigError::type_error(name, "must be an array"), value));
    }
    Ok(value.clone().unchecked_into::<Array>().iter().collect())
}

/// `name[i]`.
pub(crate) fn index(name: &str, i: usize) -> String {
    let mut s = String::from(name);
    s.push('[');
    crate::core::error::push_decimal(&mut s, i as u64);
    s.push(']');
    s
}
