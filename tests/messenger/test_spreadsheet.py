"""The CSV downloads open in Swedish Excel as they are, and no cell becomes a formula."""

import pytest

from messenger.spreadsheet import cell, excel_csv


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+46 54 61 91 00", "'+46 54 61 91 00"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("Vårdcentralen Gripen", "Vårdcentralen Gripen"),
        ("", ""),
    ],
)
def test_a_cell_that_excel_would_read_as_a_formula_is_quoted(value, written):
    assert cell(value) == written


def test_the_file_has_a_bom_semicolons_and_a_download_name():
    response = excel_csv(
        "statistik.csv", ["Månad", "Antal"], [["2027-01", "<5"], ["2027-02", "12"]]
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="statistik.csv"'
    assert response.content.decode("utf-8") == "\ufeffMånad;Antal\r\n2027-01;<5\r\n2027-02;12\r\n"
