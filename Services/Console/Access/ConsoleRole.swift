/// What a console user may see. `analyst`: overview, customers, model, retention and CSV export;
/// `desk_manager`: desks, retention and customers; `admin`: everything.
public enum ConsoleRole: String, Sendable, CaseIterable, Codable {
    case analyst
    case deskManager = "desk_manager"
    case admin

    /// Whether the role may open `page`.
    func allows(_ page: ConsolePage) -> Bool {
        switch self {
        case .admin: true
        case .analyst: page != .desks
        case .deskManager: [.desks, .retention, .customers, .customer].contains(page)
        }
    }

    /// Where a user lands after signing in: the overview, or a desk manager's desks.
    var home: ConsolePage {
        self == .deskManager ? .desks : .overview
    }
}

/// The console's pages, as the roles name them.
enum ConsolePage: String, Sendable, CaseIterable {
    case overview, customers, customer, export, model, desks, retention

    /// The pages in the navigation bar, in order, with their paths and titles.
    static let navigation: [ConsolePage] = [.overview, .customers, .model, .desks, .retention]

    var path: String {
        switch self {
        case .overview: "/console/"
        case .customers, .customer: "/console/customers"
        case .export: "/console/customers.csv"
        case .model: "/console/model"
        case .desks: "/console/desks"
        case .retention: "/console/retention"
        }
    }

    var title: String {
        switch self {
        case .overview: "Overview"
        case .customers: "Customers"
        case .customer: "Customer"
        case .export: "CSV export"
        case .model: "Model"
        case .desks: "Desks"
        case .retention: "Retention"
        }
    }
}
