//! Reading a scrape back (`lifeboat status` reads the engine's gauges; tests read everything):
//! the text parsed by a conforming OpenMetrics parser, and the values of its samples by family
//! and labels.

use openmetrics_parser::{
    MetricsExposition, OpenMetricsType, OpenMetricsValue, ParseError, Sample,
};

/// A parsed scrape.
#[derive(Debug)]
pub struct Scraped(MetricsExposition<OpenMetricsType, OpenMetricsValue>);

impl Scraped {
    /// Parses OpenMetrics text (as `GET /metrics` serves it).
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        openmetrics_parser::openmetrics::parse_openmetrics(text).map(Self)
    }

    /// The samples of `family` with (at least) `labels`.
    fn samples<'a>(
        &'a self,
        family: &str,
        labels: &'a [(&str, &str)],
    ) -> impl Iterator<Item = &'a Sample<OpenMetricsValue>> {
        self.0
            .families
            .get(family)
            .into_iter()
            .flat_map(|f| f.iter_samples())
            .filter(move |s| {
                s.get_labelset().is_ok_and(|set| {
                    labels
                        .iter()
                        .all(|(k, v)| set.get_label_value(k) == Some(*v))
                })
            })
    }

    /// The sum of the counter or gauge samples of `family` (its name without `_total`) with
    /// `labels`; 0 when there is none.
    pub fn value(&self, family: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples(family, labels)
            .map(|s| match &s.value {
                OpenMetricsValue::Counter(c) => c.value.as_f64(),
                OpenMetricsValue::Gauge(n) | OpenMetricsValue::Unknown(n) => n.as_f64(),
                _ => f64::NAN,
            })
            .sum()
    }

    /// How many observations the histograms of `family` with `labels` hold.
    pub fn count(&self, family: &str, labels: &[(&str, &str)]) -> u64 {
        self.samples(family, labels)
            .map(|s| match &s.value {
                OpenMetricsValue::Histogram(h) => h.count.unwrap_or(0),
                _ => 0,
            })
            .sum()
    }

    /// Whether the scrape has `family` at all.
    pub fn has(&self, family: &str) -> bool {
        self.0.families.contains_key(family)
    }
}
