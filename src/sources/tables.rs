//! Attribute tables: deprivation, population and the geography lookups.

use std::collections::HashMap;
use std::path::Path;

use super::error::SourceError;
use super::table::Table;
use crate::config::{
    DeprivationConfig, LsoaChangeConfig, PairLookupConfig, PopulationConfig, RuralUrbanConfig,
    WardLookupConfig,
};
use crate::model::{ChangeCode, IndicatorValue, RuralUrban};

/// One row of the LSOA → ward → district lookup.
#[derive(Debug, Clone)]
pub struct WardLookupRow {
    /// LSOA code.
    pub lsoa: String,
    /// Ward code.
    pub ward_code: String,
    /// Ward name.
    pub ward_name: String,
    /// District code.
    pub district_code: String,
    /// District name.
    pub district_name: String,
}

/// Reads the LSOA → ward → district lookup.
///
/// # Errors
/// Missing file, column or value.
pub fn read_ward_lookup(
    data_dir: &Path,
    c: &WardLookupConfig,
) -> Result<Vec<WardLookupRow>, SourceError> {
    let t = Table::open_ref(data_dir, &c.table)?;
    let (l, wc, wn, dc, dn) = (
        t.column(&c.lsoa)?,
        t.column(&c.ward_code)?,
        t.column(&c.ward_name)?,
        t.column(&c.district_code)?,
        t.column(&c.district_name)?,
    );
    let mut rows = Vec::new();
    t.for_each_row(|r| {
        rows.push(WardLookupRow {
            lsoa: r.required_text(&l)?,
            ward_code: r.required_text(&wc)?,
            ward_name: r.text(&wn).unwrap_or_default(),
            district_code: r.required_text(&dc)?,
            district_name: r.text(&dn).unwrap_or_default(),
        });
        Ok(())
    })?;
    Ok(rows)
}

/// One row of the LSOA 2011 → 2021 lookup.
#[derive(Debug, Clone)]
pub struct LsoaChangeRow {
    /// 2011 code.
    pub lsoa11: String,
    /// 2021 code.
    pub lsoa21: String,
    /// Change code.
    pub change: ChangeCode,
    /// District code (2022).
    pub district_code: String,
}

/// Reads the LSOA 2011 → 2021 lookup.
///
/// # Errors
/// Missing file, column or value; an unknown change code.
pub fn read_lsoa_changes(
    data_dir: &Path,
    c: &LsoaChangeConfig,
) -> Result<Vec<LsoaChangeRow>, SourceError> {
    let t = Table::open_ref(data_dir, &c.table)?;
    let (a, b, ch, d) = (
        t.column(&c.lsoa11)?,
        t.column(&c.lsoa21)?,
        t.column(&c.change)?,
        t.column(&c.district_code)?,
    );
    let mut rows = Vec::new();
    t.for_each_row(|r| {
        let text = r.required_text(&ch)?;
        let change = ChangeCode::parse(&text)
            .ok_or_else(|| r.bad(&ch, text, "a change code (U, S, M or X)"))?;
        rows.push(LsoaChangeRow {
            lsoa11: r.required_text(&a)?,
            lsoa21: r.required_text(&b)?,
            change,
            district_code: r.text(&d).unwrap_or_default(),
        });
        Ok(())
    })?;
    Ok(rows)
}

/// Reads a two-column code lookup into a map.
///
/// # Errors
/// Missing file, column or value.
pub fn read_pairs(
    data_dir: &Path,
    c: &PairLookupConfig,
) -> Result<HashMap<String, String>, SourceError> {
    let t = Table::open_ref(data_dir, &c.table)?;
    let (k, v) = (t.column(&c.key)?, t.column(&c.value)?);
    let mut map = HashMap::new();
    t.for_each_row(|r| {
        if let Some(value) = r.text(&v) {
            map.insert(r.required_text(&k)?, value);
        }
        Ok(())
    })?;
    Ok(map)
}

/// Reads the rural/urban classification.
///
/// # Errors
/// Missing file, column or value.
pub fn read_rural_urban(
    data_dir: &Path,
    c: &RuralUrbanConfig,
) -> Result<HashMap<String, RuralUrban>, SourceError> {
    let t = Table::open_ref(data_dir, &c.table)?;
    let (l, code, class, ruc) = (
        t.column(&c.lsoa)?,
        t.column(&c.code)?,
        t.column(&c.classification)?,
        t.column(&c.ruc)?,
    );
    let mut map = HashMap::new();
    t.for_each_row(|r| {
        map.insert(
            r.required_text(&l)?,
            RuralUrban {
                code: r.text(&code).unwrap_or_default(),
                classification: r.text(&class).unwrap_or_default(),
                ruc: r.text(&ruc).unwrap_or_default(),
            },
        );
        Ok(())
    })?;
    Ok(map)
}

/// Reads residents per LSOA.
///
/// # Errors
/// Missing file, column or value; a value that is not a whole number.
pub fn read_population(
    data_dir: &Path,
    c: &PopulationConfig,
) -> Result<HashMap<String, u32>, SourceError> {
    let t = Table::open_ref(data_dir, &c.table)?;
    let (l, n) = (t.column(&c.lsoa)?, t.column(&c.residents)?);
    let mut map = HashMap::new();
    t.for_each_row(|r| {
        if let Some(v) = r.whole_number(&n)? {
            map.insert(r.required_text(&l)?, v);
        }
        Ok(())
    })?;
    Ok(map)
}

/// A release's values per area, plus the population denominator where given.
#[derive(Debug, Default)]
pub struct DeprivationValues {
    /// Area code → one value per indicator, in the release's order.
    pub values: HashMap<String, Vec<IndicatorValue>>,
    /// Area code → population denominator.
    pub population: HashMap<String, u32>,
}

/// Which part of an indicator a column holds.
#[derive(Clone, Copy)]
enum Part {
    Decile,
    Rank,
    Score,
}

/// Reads every table of a deprivation release.
///
/// # Errors
/// Missing file, column or value; an unparseable number; a configured column
/// key that names no indicator or part.
pub fn read_deprivation(
    data_dir: &Path,
    c: &DeprivationConfig,
) -> Result<DeprivationValues, SourceError> {
    let n = c.indicators.len();
    let mut out = DeprivationValues::default();
    for spec in &c.tables {
        let t = Table::open_ref(data_dir, &spec.table)?;
        let key = t.column(&spec.key)?;
        let mut columns = Vec::new();
        for (target, column) in &spec.columns {
            let (indicator, part) = target.split_once('.').unwrap_or((target.as_str(), ""));
            let pos = c.indicators.iter().position(|i| i.id == indicator);
            let part = match part {
                "decile" => Some(Part::Decile),
                "rank" => Some(Part::Rank),
                "score" => Some(Part::Score),
                _ => None,
            };
            let (Some(pos), Some(part)) = (pos, part) else {
                return Err(SourceError::MissingColumn {
                    file: t.file().to_owned(),
                    column: format!("{target} (configured key must be '<indicator>.<decile|rank|score>' with a defined indicator)"),
                    available: c.indicators.iter().map(|i| i.id.clone()).collect::<Vec<_>>().join(", "),
                });
            };
            columns.push((pos, part, t.column(column)?));
        }
        let population = t.optional_column(spec.population.as_deref())?;
        t.for_each_row(|r| {
            let code = r.required_text(&key)?;
            let row = out
                .values
                .entry(code.clone())
                .or_insert_with(|| vec![IndicatorValue::default(); n]);
            for (pos, part, col) in &columns {
                let v = &mut row[*pos];
                match part {
                    Part::Decile => {
                        v.decile = match r.whole_number(col)? {
                            Some(d) if (1..=10).contains(&d) => u8::try_from(d).ok(),
                            Some(d) => {
                                return Err(r.bad(col, d.to_string(), "a decile from 1 to 10"))
                            }
                            None => None,
                        }
                    }
                    Part::Rank => v.rank = r.whole_number(col)?,
                    Part::Score => v.score = r.number_value(col)?,
                }
            }
            if let Some(p) = &population {
                if let Some(v) = r.whole_number(p)? {
                    out.population.insert(code, v);
                }
            }
            Ok(())
        })?;
    }
    Ok(out)
}

/// One district's official summary figures: `(property, value)` pairs in
/// file order, named as [`crate::config::DistrictSummaryConfig`] describes.
pub type SummaryFigures = Vec<(String, f64)>;

/// Reads an official district summary table (MHCLG IoD File 10) natively:
/// district code → its figures. Empty cells are left out.
///
/// # Errors
/// A missing file or column, or a measure that is not a number.
pub fn read_district_summaries(
    data_dir: &Path,
    c: &crate::config::DistrictSummaryConfig,
) -> Result<HashMap<String, SummaryFigures>, SourceError> {
    let file = data_dir.join(&c.path);
    if !file.exists() {
        return Err(SourceError::MissingFile { file });
    }
    let open = |e: &dyn std::fmt::Display| SourceError::Open {
        file: file.clone(),
        layer: None,
        message: e.to_string(),
    };
    let mut reader = csv::Reader::from_path(&file).map_err(|e| open(&e))?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| open(&e))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_owned())
        .collect();
    let position = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| SourceError::MissingColumn {
                file: file.clone(),
                column: name.to_owned(),
                available: headers.join(", "),
            })
    };
    let code_col = position(&c.code)?;
    let name_col = position(&c.name)?;
    let domain_col = c.domain.as_deref().map(position).transpose()?;
    let mut out: HashMap<String, SummaryFigures> = HashMap::new();
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(|e| open(&e))?;
        let code = record.get(code_col).unwrap_or_default().trim().to_owned();
        let prefix = match domain_col {
            Some(d) => format!(
                "official_{}_{}_",
                c.year,
                slug_of(record.get(d).unwrap_or_default())
            ),
            None => format!("official_{}_", c.year),
        }
        .replace("_index_of_multiple_deprivation_", "_imd_");
        let figures = out.entry(code).or_default();
        for (i, (h, v)) in headers.iter().zip(record.iter()).enumerate() {
            if i == code_col || i == name_col || Some(i) == domain_col || c.skip.contains(h) {
                continue;
            }
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            let value: f64 = v.parse().map_err(|_| SourceError::BadValue {
                file: file.clone(),
                row: row as u64 + 1,
                column: h.clone(),
                value: v.to_owned(),
                expected: "a number",
            })?;
            figures.push((format!("{prefix}{}", slug_of(h)), value));
        }
    }
    Ok(out)
}

/// Lower-case words joined by `_` (`Index of Multiple Deprivation` →
/// `index_of_multiple_deprivation`).
fn slug_of(text: &str) -> String {
    text.split(|ch: char| !ch.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("_")
}
