//! GeoPackage geometry blobs for points (GeoPackage 1.2 §2.1.3): the `GP`
//! header (version, flags, SRS id, optional envelope) followed by
//! little- or big-endian WKB.

/// SRS id of WGS 84 in `gpkg_spatial_ref_sys`.
pub const WGS84: i32 = 4326;

/// A point blob: header without envelope (flags = little-endian), then WKB
/// Point, 29 bytes in all.
pub fn encode_point(lon: f64, lat: f64) -> Vec<u8> {
    let mut b = Vec::with_capacity(29);
    b.extend_from_slice(b"GP");
    b.push(0); // version 1
    b.push(0b0000_0001); // little-endian header, no envelope, not empty
    b.extend_from_slice(&WGS84.to_le_bytes());
    b.push(1); // WKB little-endian
    b.extend_from_slice(&1u32.to_le_bytes()); // Point
    b.extend_from_slice(&lon.to_le_bytes());
    b.extend_from_slice(&lat.to_le_bytes());
    b
}

/// Reads a point blob as written by GapMap, GDAL or QGIS (any envelope,
/// either byte order, 2D or with Z/M ignored). `Err` says what is wrong.
pub fn decode_point(b: &[u8]) -> Result<(f64, f64), String> {
    if b.len() < 8 || &b[..2] != b"GP" {
        return Err("not a GeoPackage geometry blob".into());
    }
    let flags = b[3];
    if flags & 0b0001_0000 != 0 {
        return Err("empty geometry".into());
    }
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        other => return Err(format!("bad envelope indicator {other}")),
    };
    let wkb = b
        .get(8 + envelope..)
        .ok_or("blob shorter than its header")?;
    let (&order, rest) = wkb.split_first().ok_or("no WKB after the header")?;
    let le = match order {
        1 => true,
        0 => false,
        _ => return Err("bad WKB byte order".into()),
    };
    let u32_at = |s: &[u8]| -> Option<u32> {
        let a: [u8; 4] = s.get(..4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    };
    let f64_at = |s: &[u8]| -> Option<f64> {
        let a: [u8; 8] = s.get(..8)?.try_into().ok()?;
        Some(if le {
            f64::from_le_bytes(a)
        } else {
            f64::from_be_bytes(a)
        })
    };
    let kind = u32_at(rest).ok_or("WKB cut short")?;
    // Point, Point Z, Point M, Point ZM in ISO numbering.
    if !matches!(kind, 1 | 1001 | 2001 | 3001) {
        return Err(format!("WKB geometry type {kind}, not a point"));
    }
    let x = f64_at(&rest[4..]).ok_or("WKB cut short")?;
    let y = rest.get(12..).and_then(f64_at).ok_or("WKB cut short")?;
    if !x.is_finite() || !y.is_finite() {
        return Err("point coordinates are not finite".into());
    }
    Ok((x, y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reads_an_envelope_and_big_endian() {
        let b = encode_point(-1.25, 51.75);
        assert_eq!(b.len(), 29);
        assert_eq!(decode_point(&b), Ok((-1.25, 51.75)));
        // As GDAL writes with an XY envelope, big-endian WKB.
        let mut g = b"GP\0\x03".to_vec();
        g.extend_from_slice(&4326i32.to_le_bytes());
        for v in [-1.25f64, -1.25, 51.75, 51.75] {
            g.extend_from_slice(&v.to_le_bytes());
        }
        g.push(0);
        g.extend_from_slice(&1u32.to_be_bytes());
        g.extend_from_slice(&(-1.25f64).to_be_bytes());
        g.extend_from_slice(&51.75f64.to_be_bytes());
        assert_eq!(decode_point(&g), Ok((-1.25, 51.75)));
        assert!(decode_point(&g[..g.len() - 1]).is_err());
        assert!(decode_point(b"GP\0\x11\0\0\0\0").is_err());
    }
}
