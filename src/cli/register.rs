//! `gapmap register import FILE`: validates every row of a file of entries
//! against the atlas, then writes them all in one transaction, or none with
//! a report naming each bad row and column. A running server sharing the
//! register picks the entries up from the change log.

use std::fmt::Write as _;

use super::args::{ImportArgs, RegisterCommand};
use super::load::{load_atlas_with, load_config};
use super::token::open_store;
use crate::live::validate::{self, InputCrs};
use crate::live::{compose, LiveError, Register};
use crate::model::register::Action;
use crate::sources::register::import::{self, ImportFormat};
use crate::sources::register::Stamp;

/// Runs a register command.
///
/// # Errors
/// A message naming what is wrong (every bad row for an import).
pub fn run(command: &RegisterCommand) -> Result<(), String> {
    match command {
        RegisterCommand::Import(args) => run_import(args),
    }
}

fn run_import(args: &ImportArgs) -> Result<(), String> {
    let format = ImportFormat::from_path(&args.file).ok_or_else(|| {
        format!(
            "{}: unknown file type; expected .csv, .geojson, .json or .gpkg",
            args.file.display()
        )
    })?;
    let crs = match args.crs.as_str() {
        "CRS84" | "crs84" => InputCrs::Crs84,
        "EPSG:4326" => InputCrs::Epsg4326,
        "EPSG:27700" => InputCrs::Bng,
        other => {
            return Err(format!(
                "--crs {other}: expected CRS84, EPSG:4326 or EPSG:27700"
            ))
        }
    };
    let bytes = std::fs::read(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let rows = import::read(&bytes, format).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let store = open_store(&args.store)?;
    let config = load_config(&args.atlas)?;
    let atlas = load_atlas_with(&args.atlas, &config)?;
    // Validate against the atlas with the register's categories joined.
    let prepared =
        Register::prepare(store.as_ref(), &atlas, &config.register).map_err(|e| e.to_string())?;
    let fields = match validate::rows(&rows, crs, &prepared.atlas) {
        Ok(f) => f,
        Err(LiveError::InvalidRows(bad)) => {
            let mut msg = format!(
                "{}: {} invalid rows; nothing was imported:",
                args.file.display(),
                bad.len()
            );
            for r in bad {
                let _ = write!(msg, "\n  row {}, column {}: {}", r.row, r.column, r.message);
            }
            return Err(msg);
        }
        Err(e) => return Err(e.to_string()),
    };
    let at = compose::now();
    let changes = store
        .create(
            &fields,
            Action::Import,
            Stamp {
                actor: &args.actor,
                at: &at,
            },
        )
        .map_err(|e| e.to_string())?;
    println!(
        "Imported {} entries into {} (register-{} to register-{}).",
        changes.len(),
        store.location(),
        changes.first().map_or(0, |c| c.entry_id),
        changes.last().map_or(0, |c| c.entry_id)
    );
    Ok(())
}
