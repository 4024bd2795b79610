import Testing

@testable import SocksDeckEngine

@Suite struct PercentileTests {
    @Test func nearestRankGivesAMeasuredValue() {
        #expect(Percentile.nearestRank(0.5, of: []) == nil)
        #expect(Percentile.nearestRank(0.5, of: [7]) == 7)
        // An even count's median is the lower middle value, not an average nobody measured.
        #expect(Percentile.nearestRank(0.5, of: [1, 2, 3, 4]) == 2)
        #expect(Percentile.nearestRank(0.5, of: [1, 2, 3, 4, 5]) == 3)
        #expect(Percentile.nearestRank(0.99, of: (1...100).map(Double.init)) == 99)
        #expect(Percentile.nearestRank(0.99, of: (1...10).map(Double.init)) == 10)
        #expect(Percentile.nearestRank(0, of: [4, 5]) == 4)
    }
}
