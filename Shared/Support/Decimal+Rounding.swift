import Foundation

extension Decimal {
    /// Rounded half away from zero to `scale` fractional digits (scale 0: a whole number).
    public func rounded(scale: Int) -> Decimal {
        var value = self
        var result = Decimal()
        NSDecimalRound(&result, &value, scale, .plain)
        return result
    }
}
