import Foundation
import TCPLab
import XCTest

/// `tcplab report` read by a real browser: Debian's headless Chromium renders the handshake
/// lab's page (not blank, Chinese in a CJK font) and its DOM holds the verdict rows and the seed
/// question. Installs chromium and fonts-noto-cjk with apt when they are missing; skips, saying
/// why, where it cannot.
final class HTMLReportBrowserTests: XCTestCase {
    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root (network namespaces for the lab, apt for chromium); CI runs as root") }
        try Self.installBrowser()
    }

    static func installBrowser() throws {
        let have = { (try? CommandRunner.run(["sh", "-c", "command -v chromium && fc-list :lang=zh family | grep -q ."], check: false).succeeded) == true }
        if have() { return }
        guard (try? CommandRunner.run(["sh", "-c", "command -v apt-get"], check: false).succeeded) == true else {
            throw XCTSkip("chromium or a CJK font is missing and there is no apt-get to install them")
        }
        let install = try CommandRunner.run(["sh", "-c", "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk"],
                                            timeout: 900, check: false)
        guard install.succeeded, have() else {
            throw XCTSkip("could not install chromium and fonts-noto-cjk with apt (status \(install.status)): \(install.standardError.suffix(400))")
        }
    }

    func testHandshakeReportInChromium() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tcplab-report-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try CommandRunner.run([try LabBinaries.path("tcplab"), "report", directory, "handshake"], timeout: 120, check: false)
        XCTAssertEqual(run.status, 0, run.standardError)
        let page = "\(directory)/handshake.html"
        let written = try String(contentsOfFile: page, encoding: .utf8)
        let verdictRows = written.components(separatedBy: "<tr class=\"check pass\">").count - 1
        XCTAssertGreaterThanOrEqual(verdictRows, 5, "the handshake lab judges at least five things")

        // The font the Chinese needs is installed (else the text renders as boxes and "not blank" still passes).
        let fonts = try CommandRunner.run(["fc-list", ":lang=zh", "family"]).standardOutput
        XCTAssertTrue(fonts.contains("Noto Sans CJK") || fonts.contains("Noto Serif CJK"), "fc-list :lang=zh: \(fonts.prefix(300))")
        XCTAssertEqual(try CommandRunner.run(["fc-match", "Noto Sans CJK SC"]).standardOutput.contains("NotoSansCJK"), true,
                       "the report's first font family resolves to Noto Sans CJK")

        let browser = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run"]
        let dom = try CommandRunner.run(browser + ["--dump-dom", "file://\(page)"], timeout: 60, check: false)
        XCTAssertEqual(dom.status, 0, String(dom.standardError.suffix(500)))
        XCTAssertEqual(dom.standardOutput.components(separatedBy: "<tr class=\"check pass\">").count - 1, verdictRows,
                       "the browser's DOM holds every verdict row")
        XCTAssertFalse(dom.standardOutput.contains("<tr class=\"check fail\">"))
        XCTAssertTrue(dom.standardOutput.contains("TCP 为什么三次握手而不是两次握手"), "the Chinese seed question in the DOM")
        XCTAssertTrue(dom.standardOutput.contains("why three handshakes, and what each carries"), "and its English")
        XCTAssertTrue(dom.standardOutput.contains("class=\"segment passed\""), "the ladder's SVG arrows are in the DOM")

        let png = "\(directory)/handshake.png"
        let shot = try CommandRunner.run(browser + ["--window-size=1300,1400", "--screenshot=\(png)", "file://\(page)"], timeout: 60, check: false)
        XCTAssertEqual(shot.status, 0, String(shot.standardError.suffix(500)))
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/png-ink").standardized.path
        let ink = try CommandRunner.run(["python3", script, png]).standardOutput.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        XCTAssertEqual(ink.count, 4)
        guard ink.count == 4 else { return }
        XCTAssertEqual(ink[0], 1300)
        XCTAssertEqual(ink[1], 1400)
        let inkedShare = Double(ink[2]) / Double(ink[0] * ink[1])
        // Text, tables and the ladder: a few percent of the page; a blank or error page has almost none.
        XCTAssertGreaterThan(inkedShare, 0.02, "the screenshot is nearly blank: \(ink)")
        XCTAssertGreaterThan(ink[3], 50, "more colours than an empty page: \(ink)")
        if let keep = ProcessInfo.processInfo.environment["TCPLAB_KEEP_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(atPath: png, toPath: keep)
        }
    }
}
