//! Locations and the distance soft rule. Rural Shimoina roads wind through
//! mountains, so straight-line distance understates travel time; we use a road
//! factor and an average speed that can be tuned per region.

use serde::{Deserialize, Serialize};

use crate::ParseError;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

impl LatLon {
    pub fn new(lat: f64, lon: f64) -> Result<Self, ParseError> {
        if !(-90.0..=90.0).contains(&lat) || lat.is_nan() {
            return Err(ParseError::new(
                format!("latitude {lat} is outside -90..90"),
                format!("緯度 {lat} が -90〜90 の範囲外です"),
            ));
        }
        if !(-180.0..=180.0).contains(&lon) || lon.is_nan() {
            return Err(ParseError::new(
                format!("longitude {lon} is outside -180..180"),
                format!("経度 {lon} が -180〜180 の範囲外です"),
            ));
        }
        Ok(Self { lat, lon })
    }

    /// Great-circle distance in kilometres (haversine).
    pub fn distance_km(&self, other: &LatLon) -> f64 {
        const R: f64 = 6371.0;
        let (la1, la2) = (self.lat.to_radians(), other.lat.to_radians());
        let dla = la2 - la1;
        let dlo = (other.lon - self.lon).to_radians();
        let a = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
        2.0 * R * a.sqrt().asin()
    }
}

/// Turns straight-line distance into an estimated drive time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TravelModel {
    /// Road distance / straight-line distance; about 1.5 on mountain roads.
    pub road_factor: f64,
    /// Average speed on those roads, km/h.
    pub speed_kmh: f64,
}

impl Default for TravelModel {
    fn default() -> Self {
        Self {
            road_factor: 1.5,
            speed_kmh: 40.0,
        }
    }
}

impl TravelModel {
    pub fn minutes(&self, a: &LatLon, b: &LatLon) -> f64 {
        a.distance_km(b) * self.road_factor / self.speed_kmh * 60.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anan_to_tenryu_is_about_fifteen_km() {
        let anan = LatLon::new(35.3236, 137.8156).unwrap();
        let tenryu = LatLon::new(35.2775, 137.8547).unwrap();
        let d = anan.distance_km(&tenryu);
        assert!((5.0..8.0).contains(&d), "{d}");
        let m = TravelModel::default().minutes(&anan, &tenryu);
        assert!((8.0..15.0).contains(&m), "{m}");
    }

    #[test]
    fn rejects_out_of_range() {
        assert!(LatLon::new(91.0, 0.0).is_err());
        assert!(LatLon::new(0.0, 181.0).is_err());
        assert!(LatLon::new(f64::NAN, 0.0).is_err());
    }
}
