import Foundation
import Prometheus
import Synchronization

/// The process's own figures under the names every Prometheus client library uses (`process_cpu_seconds_total`,
/// `process_resident_memory_bytes`, `process_open_fds`, ...), read from `/proc/self` each time `/metrics` is rendered.
/// Where `/proc` is missing (not Linux) they stay at zero.
final class ProcessMetrics: Sendable {
    private let cpu: Prometheus.Counter
    private let resident: Prometheus.Gauge
    private let virtual: Prometheus.Gauge
    private let openFiles: Prometheus.Gauge
    private let maximumFiles: Prometheus.Gauge
    private let started: Prometheus.Gauge
    /// CPU seconds already added to the counter, which only counts up.
    private let counted = Mutex<Double>(0)

    init(registry: PrometheusCollectorRegistry) {
        func descriptor(_ name: String) -> MetricNameDescriptor { HelpfulMetricsFactory.descriptor(name) }
        cpu = registry.makeCounter(descriptor: descriptor("process_cpu_seconds_total"))
        resident = registry.makeGauge(descriptor: descriptor("process_resident_memory_bytes"))
        virtual = registry.makeGauge(descriptor: descriptor("process_virtual_memory_bytes"))
        openFiles = registry.makeGauge(descriptor: descriptor("process_open_fds"))
        maximumFiles = registry.makeGauge(descriptor: descriptor("process_max_fds"))
        started = registry.makeGauge(descriptor: descriptor("process_start_time_seconds"))
        if let stat = Self.stat() { started.set(to: stat.startTime) }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 { maximumFiles.set(to: Double(limit.rlim_cur)) }
    }

    /// Reads the current figures.
    func update() {
        if let stat = Self.stat() {
            resident.set(to: stat.residentBytes)
            virtual.set(to: stat.virtualBytes)
            counted.withLock { counted in
                if stat.cpuSeconds > counted {
                    cpu.increment(by: stat.cpuSeconds - counted)
                    counted = stat.cpuSeconds
                }
            }
        }
        if let files = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            // The directory listing holds one descriptor of its own while it runs.
            openFiles.set(to: Double(max(files.count - 1, 0)))
        }
    }

    struct Stat {
        var cpuSeconds: Double
        var virtualBytes: Double
        var residentBytes: Double
        var startTime: Double
    }

    /// `/proc/self/stat`: fields after the command name (which may hold spaces and parentheses) are counted from
    /// its closing parenthesis; utime and stime are the 14th and 15th field, starttime the 22nd, vsize the 23rd and
    /// rss (pages) the 24th.
    static func stat() -> Stat? {
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8) else { return nil }
        return parse(
            stat: text,
            bootTime: bootTime(),
            ticks: Double(sysconf(Int32(_SC_CLK_TCK))),
            pageSize: Double(sysconf(Int32(_SC_PAGESIZE)))
        )
    }

    static func parse(stat text: String, bootTime: Double, ticks: Double, pageSize: Double) -> Stat? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        // Field 3 (state) is the first after the name.
        let fields = text[text.index(after: close)...].split(separator: " ")
        func field(_ number: Int) -> Double? { fields.count > number - 3 ? Double(fields[number - 3]) : nil }
        guard ticks > 0, let user = field(14), let system = field(15), let start = field(22), let size = field(23),
            let pages = field(24)
        else { return nil }
        return Stat(
            cpuSeconds: (user + system) / ticks,
            virtualBytes: size,
            residentBytes: pages * pageSize,
            startTime: bootTime + start / ticks
        )
    }

    /// `btime` of `/proc/stat`: when the machine booted, in seconds since the epoch.
    static func bootTime() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        return 0
    }
}
