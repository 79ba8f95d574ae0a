"""The `jupyter_kernel_test` suite (PyPI) against the installed Rust (dl) kernel, with every
applicable sample filled in."""
import unittest

import jupyter_kernel_test as jkt


class DlRustKernelTests(jkt.KernelTests):
    kernel_name = "dl-rust"
    language_name = "rust"
    file_extension = ".rs"

    code_hello_world = 'println!("hello, world");'
    code_stderr = 'eprintln!("a message on stderr");'

    completion_samples = [
        {"text": "let counter_value = 1; counter_", "matches": {"counter_value"}},
        {"text": "std::collections::HashM", "matches": {"HashMap"}},
    ]
    complete_code_samples = ["1 + 1", "let x = 1;", "fn f() -> i32 { 1 }", "let s = \"a { b\";"]
    incomplete_code_samples = ["fn f() {", "let v = vec![1, 2,", "let s = \"open"]
    invalid_code_samples = ["let x = 1;)", "(]"]

    code_generate_error = 'panic!("deliberate")'
    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": 'format!("{}-{}", 1, 2)', "result": '"1-2"'},
    ]
    code_display_data = [
        {"code": 'let mut fig = Figure::new();\nfig.plot(&[1.0, 2.0], &[3.0, 1.0], "ro")?;\nfig.show()?;', "mime": "image/png"},
        {"code": 'let mut fig = Figure::new();\nfig.plot(&[1.0, 2.0], &[3.0, 1.0], "b")?;\nfig.show()?;', "mime": "text/plain"},
    ]
    code_history_pattern = "6 * *"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "Vec::new"
    code_clear_output = "dl_core::display::clear_output(false);"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The suite gives every request 15 s. A kernel's first cell also waits for dl-core to
        # load (about 10 s when no warm spare is there, more on a busy machine), so the class
        # waits for it once, as a user waits for the first cell.
        reply = cls.kc.execute_interactive("let warmed_up = 1;", timeout=600, output_hook=lambda m: None)
        assert reply["content"]["status"] == "ok", reply["content"]

    def test_kernel_info_language(self):
        self.flush_channels()
        msg_id = self.kc.kernel_info()
        reply = self.kc.get_shell_msg(timeout=30)
        li = reply["content"]["language_info"]
        self.assertEqual(li["name"], "rust")
        self.assertEqual(li["pygments_lexer"], "rust")
        self.assertEqual(li["codemirror_mode"], "rust")
        self.assertEqual(li["file_extension"], ".rs")
        self.assertTrue(li["version"][0].isdigit(), li["version"])
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)


if __name__ == "__main__":
    unittest.main()
