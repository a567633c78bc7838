"""The files of a PTB-XL folder that ingest reads (inputs of the ingest rule)."""

from __future__ import annotations

from cinexai.data.layout import record_files


def test_record_files_list_existing_statements_and_wfdb_files(tmp_path):
    (tmp_path / "ptbxl_database.csv").write_text(
        "ecg_id,filename_lr,filename_hr\n"
        "1,records100/00000/00001_lr,records500/00000/00001_hr\n"
        "2,records100/00000/00002_lr,records500/00000/00002_hr\n"
    )
    folder = tmp_path / "records500" / "00000"
    folder.mkdir(parents=True)
    for name in ("00001_hr.hea", "00001_hr.dat", "00002_hr.hea"):
        (folder / name).write_bytes(b"x")
    assert record_files(tmp_path, 500) == [
        str(folder / "00001_hr.hea"),
        str(folder / "00001_hr.dat"),
        str(folder / "00002_hr.hea"),
    ]
    (tmp_path / "scp_statements.csv").write_text("code\n")
    assert record_files(tmp_path, 500)[0] == str(tmp_path / "scp_statements.csv")
    assert record_files(tmp_path, 100) == [str(tmp_path / "scp_statements.csv")]
