//! Latency histograms as `report.json` keeps them, one per window: HdrHistogram's compressed
//! V2 encoding in base64, the form of HdrHistogram's interval logs (readable by its tools), so
//! a later comparison can use the whole distribution, not only the percentiles kept beside it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};

/// The histogram, encoded; `None` only if the encoder fails (it writes to memory).
pub fn encode(histogram: &Histogram<u64>) -> Option<String> {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(histogram, &mut bytes)
        .ok()?;
    Some(STANDARD.encode(bytes))
}

pub fn decode(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|e| format!("histogram: not base64: {e}"))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("histogram: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_comes_back_with_every_count() {
        let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
        for us in [35, 36, 36, 40, 120, 950, 1_400, 8_300, 2_049_000] {
            latency.record(us).expect("in range");
        }
        let text = encode(&latency).expect("encoded");
        let back = decode(&text).expect("decoded");
        assert_eq!(back.len(), latency.len());
        for q in [0.5, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(
                back.value_at_quantile(q),
                latency.value_at_quantile(q),
                "q {q}"
            );
        }
        assert_eq!(back.max(), latency.max());
        assert!(decode("not a histogram").is_err());
    }
}
