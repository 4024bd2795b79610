import Foundation
import Testing

@testable import Socks5
@testable import SocksDeckEngine

/// Saving servers from the TUI into the user's own file: only the one table changes, comments
/// and layout stay, nothing that would not load is written, and no password ever is.
@Suite struct ConfigurationFileEditorTests {
    static let original = """
        # my proxies
        [[server]]
        name = "dante"   # the lab one
        address = "127.0.0.1:1080"

        # the office
        [[server]]
        name = "office"
        address = "[::1]:1081"
        echo = "127.0.0.1:7"

        """

    static func file(_ text: String = original) throws -> String {
        let path = try makeTemporaryDirectory("editor") + "/config.toml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o640)
        return path
    }

    @Test func appendingKeepsEverythingElseAndWritesNoPassword() throws {
        let path = try Self.file()
        let added = try ServerDefinition.adHoc("socks5://alice:s3cret-typed@192.0.2.1:1080")
        var named = added
        named.name = "new one"
        let loaded = try ConfigurationFileEditor.apply(.append(named), to: path, environment: [:])
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix(Self.original))
        #expect(
            text.contains(
                "[[server]]\nname = \"new one\"\naddress = \"192.0.2.1:1080\"\nusername = "
                    + "\"alice\"\npassword_env = \"SOCKS_PASSWORD_NEW_ONE\"\n"
            )
        )
        #expect(!text.contains("s3cret-typed"))
        #expect(loaded.servers.map(\.name) == ["dante", "office", "new one"])
        var info = stat()
        stat(path, &info)
        #expect(info.st_mode & 0o777 == 0o640, "the file's permissions are kept")
    }

    @Test func replacingAndRemovingTouchOnlyThatTable() throws {
        let path = try Self.file()
        var office = try ServerDefinition.adHoc("[::1]:2081")
        office.name = "office"
        try ConfigurationFileEditor.apply(.replace(name: "office", with: office), to: path, environment: [:])
        var text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("# my proxies\n[[server]]\nname = \"dante\"   # the lab one\n"))
        #expect(text.contains("# the office\n[[server]]\nname = \"office\"\naddress = \"[::1]:2081\"\n"))
        #expect(!text.contains("127.0.0.1:7"))
        try ConfigurationFileEditor.apply(.remove(name: "dante"), to: path, environment: [:])
        text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == "# my proxies\n# the office\n[[server]]\nname = \"office\"\naddress = \"[::1]:2081\"\n")
    }

    @Test func whatWouldNotLoadIsNotWritten() throws {
        let path = try Self.file()
        var twin = try ServerDefinition.adHoc("127.0.0.1:9")
        twin.name = "dante"
        #expect(throws: ConfigurationFileError.self) {
            try ConfigurationFileEditor.apply(.append(twin), to: path, environment: [:])
        }
        #expect(throws: ConfigurationFileError.self) {
            try ConfigurationFileEditor.apply(.remove(name: "nobody"), to: path, environment: [:])
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == Self.original)
    }
}
