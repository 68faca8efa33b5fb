import Foundation

/// A connector as stored: the refresh token only ever sealed, and erased on revoke.
struct ConnectorRecord: Codable, Sendable, Equatable {
    var connectorID: String
    var userID: String
    var provider: String
    var scopes: String
    var status: Status
    var createdAt: Int64
    var updatedAt: Int64
    var keyID: String
    var keyVersion: Int
    var sealedRefreshToken: Data?

    enum Status: String, Codable, Sendable {
        case active, revoked
    }

    enum CodingKeys: String, CodingKey {
        case connectorID = "connector_id"
        case userID = "user_id"
        case provider, scopes, status
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case keyID = "key_id"
        case keyVersion = "key_version"
        case sealedRefreshToken = "sealed_refresh_token"
    }
}
