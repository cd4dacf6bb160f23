//! Tabular asset lists (CSV or any GDAL table).

use std::path::Path;

use super::{slug, Location, RawAsset, SourceAssets};
use crate::config::{AssetSourceConfig, AssetSourceKind, RowFilter};
use crate::model::normalise_postcode;
use crate::sources::error::SourceError;
use crate::sources::reproject::{Reprojector, WGS84_EPSG};
use crate::sources::table::{Column, Row, Table};

struct Filter {
    column: Column,
    spec: RowFilter,
}

impl Filter {
    fn passes(&self, row: &Row<'_>) -> bool {
        let value = row.text(&self.column).unwrap_or_default();
        let eq = |list: &[String]| {
            list.iter()
                .any(|v| v.trim().eq_ignore_ascii_case(value.trim()))
        };
        (!self.spec.empty || value.is_empty())
            && (self.spec.any_of.is_empty() || eq(&self.spec.any_of))
            && !eq(&self.spec.none_of)
    }
}

pub(super) fn read(
    data_dir: &Path,
    config: &AssetSourceConfig,
) -> Result<SourceAssets, SourceError> {
    let table = Table::open_ref(data_dir, &config.table)?;
    let id_col = table.optional_column(config.id_column.as_deref())?;
    let name_col = table.optional_column(config.name_column.as_deref())?;
    let address_cols = config
        .address_columns
        .iter()
        .map(|c| table.column(c))
        .collect::<Result<Vec<_>, _>>()?;
    let filters = config
        .filters
        .iter()
        .map(|f| {
            Ok(Filter {
                column: table.column(&f.column)?,
                spec: f.clone(),
            })
        })
        .collect::<Result<Vec<_>, SourceError>>()?;
    let category = config.category.clone().unwrap_or_default();
    let locator = Locator::new(&table, &config.kind)?;
    let mut out = SourceAssets::default();
    table.for_each_row(|row| {
        if !filters.iter().all(|f| f.passes(row)) {
            out.filtered_out += 1;
            return Ok(());
        }
        let name = name_col
            .as_ref()
            .and_then(|c| row.text(c))
            .unwrap_or_default();
        let (location, postcode, located_address) = locator.locate(row)?;
        let address = join_address(row, &address_cols).or(located_address);
        let key = match id_col.as_ref().and_then(|c| row.text(c)) {
            Some(k) => slug(&k),
            None => slug(&format!("{name} {}", postcode.clone().unwrap_or_default())),
        };
        out.assets.push(RawAsset {
            key,
            name,
            category: category.clone(),
            location,
            address,
            postcode,
            area_m2: None,
            row: row.number(),
        });
        Ok(())
    })?;
    // Every row was either filtered out or kept (a bad one stops the read).
    let found = (out.filtered_out + out.assets.len()) as u64;
    if let Some(expected) = config.rows {
        if found != expected {
            return Err(SourceError::RowCount {
                file: table.file().to_owned(),
                expected,
                found,
            });
        }
    }
    Ok(out)
}

fn join_address(row: &Row<'_>, cols: &[Column]) -> Option<String> {
    let parts: Vec<String> = cols.iter().filter_map(|c| row.text(c)).collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

enum Locator {
    Postcode(Column),
    LatLon {
        lat: Column,
        lon: Column,
        postcode: Option<Column>,
        reprojector: Reprojector,
    },
    Text {
        column: Column,
        reprojector: Reprojector,
    },
}

impl Locator {
    fn new(table: &Table, kind: &AssetSourceKind) -> Result<Self, SourceError> {
        Ok(match kind {
            AssetSourceKind::Postcode { postcode_column } => {
                Locator::Postcode(table.column(postcode_column)?)
            }
            AssetSourceKind::LatLon {
                lat_column,
                lon_column,
                postcode_column,
            } => Locator::LatLon {
                lat: table.column(lat_column)?,
                lon: table.column(lon_column)?,
                postcode: table.optional_column(postcode_column.as_deref())?,
                reprojector: Reprojector::from_epsg(WGS84_EPSG)?,
            },
            AssetSourceKind::LocationText { location_column } => Locator::Text {
                column: table.column(location_column)?,
                reprojector: Reprojector::from_epsg(WGS84_EPSG)?,
            },
            AssetSourceKind::Osm { .. } => {
                return Err(SourceError::Gdal {
                    file: table.file().to_owned(),
                    message: "OpenStreetMap sources are not tabular".to_owned(),
                })
            }
        })
    }

    /// Location, postcode and (for text locations) the address line.
    fn locate(
        &self,
        row: &Row<'_>,
    ) -> Result<(Location, Option<String>, Option<String>), SourceError> {
        match self {
            Locator::Postcode(col) => {
                let raw = row.text(col);
                Ok(match raw.as_deref().map(|r| (r, normalise_postcode(r))) {
                    Some((_, Some(pc))) => (Location::Postcode(pc.clone()), Some(pc), None),
                    Some((r, None)) => (
                        Location::Unplaced(format!("'{r}' is not a postcode")),
                        None,
                        None,
                    ),
                    None => (Location::Unplaced("no postcode".to_owned()), None, None),
                })
            }
            Locator::LatLon {
                lat,
                lon,
                postcode,
                reprojector,
            } => {
                let pc = postcode
                    .as_ref()
                    .and_then(|c| row.text(c))
                    .as_deref()
                    .and_then(normalise_postcode);
                match (row.number_value(lat)?, row.number_value(lon)?) {
                    (Some(la), Some(lo)) => {
                        check_lonlat(row, lat, lo, la)?;
                        Ok((Location::Point(one_point(reprojector, lo, la)?), pc, None))
                    }
                    _ => Ok((
                        Location::Unplaced("no latitude/longitude".to_owned()),
                        pc,
                        None,
                    )),
                }
            }
            Locator::Text {
                column,
                reprojector,
            } => {
                let text = row.text(column).unwrap_or_default();
                let address = text
                    .lines()
                    .next()
                    .map(|l| l.trim().trim_end_matches('.').to_owned());
                let pc = find_postcode(&text);
                match parse_lat_lon(&text) {
                    Some((la, lo)) => {
                        check_lonlat(row, column, lo, la)?;
                        Ok((
                            Location::Point(one_point(reprojector, lo, la)?),
                            pc,
                            address,
                        ))
                    }
                    None if text.contains('(') => {
                        Err(row.bad(column, text, "text ending in \"(latitude, longitude)\""))
                    }
                    None => Ok((
                        Location::Unplaced("no \"(lat, lon)\" in location".to_owned()),
                        pc,
                        address,
                    )),
                }
            }
        }
    }
}

fn check_lonlat(row: &Row<'_>, col: &Column, lon: f64, lat: f64) -> Result<(), SourceError> {
    if (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat) {
        Ok(())
    } else {
        Err(row.bad(
            col,
            format!("{lat}, {lon}"),
            "a latitude in -90..90 and longitude in -180..180",
        ))
    }
}

fn one_point(r: &Reprojector, lon: f64, lat: f64) -> Result<crate::model::DualPoint, SourceError> {
    r.points(&[lon], &[lat])?
        .pop()
        .ok_or_else(|| SourceError::Transform {
            what: "point".to_owned(),
            message: "no result".to_owned(),
        })
}

/// Parses the last "(lat, lon)" in a text.
fn parse_lat_lon(text: &str) -> Option<(f64, f64)> {
    let open = text.rfind('(')?;
    let close = open + text[open..].find(')')?;
    let (a, b) = text[open + 1..close].split_once(',')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

/// Finds the first UK postcode written as two tokens in free text.
fn find_postcode(text: &str) -> Option<String> {
    let tokens: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|t| t.trim_matches(|c: char| !c.is_ascii_alphanumeric()))
        .filter(|t| !t.is_empty())
        .collect();
    tokens.windows(2).find_map(|w| {
        (w[1].len() == 3 && (2..=4).contains(&w[0].len()))
            .then(|| normalise_postcode(&format!("{} {}", w[0], w[1])))
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_community_centre_location() {
        let t = "Underhill Circus Headington Oxford OX3 9LS. Oxford\nUK\n(51.76786644544932, -1.1963939666748047)";
        assert_eq!(
            parse_lat_lon(t),
            Some((51.767_866_445_449_32, -1.196_393_966_674_804_7))
        );
        assert_eq!(find_postcode(t).as_deref(), Some("OX3 9LS"));
        assert_eq!(parse_lat_lon("no coordinates"), None);
    }
}
