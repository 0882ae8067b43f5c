//! Command-line parsing for `fetchlane-test-server`.

use crate::static_files::normalize_prefix;
use std::path::PathBuf;

pub const USAGE: &str =
    "usage: fetchlane-test-server [--port N] [--host 127.0.0.1] [--static PREFIX=DIR ...] \
[--port-file PATH] [--exit-on-stdin-eof]";

#[derive(Debug)]
pub struct Args {
    pub port: u16,
    pub host: String,
    /// (URL prefix, directory) mounts.
    pub statics: Vec<(String, PathBuf)>,
    pub port_file: Option<PathBuf>,
    pub exit_on_stdin_eof: bool,
}

/// Parse arguments (both `--flag value` and `--flag=value`). `Err` carries a message; `--help`
/// yields `Err(USAGE)`.
pub fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        port: 0,
        host: "127.0.0.1".into(),
        statics: Vec::new(),
        port_file: None,
        exit_on_stdin_eof: false,
    };
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or(format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--port" => {
                let v = value("--port")?;
                args.port = v.parse().map_err(|_| format!("bad --port {v:?}"))?;
            }
            "--host" => args.host = value("--host")?,
            "--port-file" => args.port_file = Some(value("--port-file")?.into()),
            "--static" => {
                let v = value("--static")?;
                let (prefix, dir) = v
                    .split_once('=')
                    .ok_or(format!("--static wants PREFIX=DIR, got {v:?}"))?;
                if dir.is_empty() {
                    return Err(format!("--static {v:?}: empty directory"));
                }
                args.statics
                    .push((normalize_prefix(prefix), PathBuf::from(dir)));
            }
            "--exit-on-stdin-eof" => args.exit_on_stdin_eof = true,
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}
