from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from providers.models import PostcodeDistrict


def write(tmp_path, text):
    path = tmp_path / "districts.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_loads_new_districts_and_updates_known_ones(db, tmp_path, capsys):
    PostcodeDistrict.objects.create(outward_code="LS6", latitude=1, longitude=1)
    call_command("load_postcode_districts", write(
        tmp_path, "outward_code,latitude,longitude\nls6,53.82,-1.575\nYO1 ,53.959,-1.081\n"
    ))
    assert PostcodeDistrict.objects.get(outward_code="LS6").latitude == Decimal("53.82000")
    assert PostcodeDistrict.objects.get(outward_code="YO1").longitude == Decimal("-1.08100")
    assert "1 districts added, 1 updated." in capsys.readouterr().out


@pytest.mark.parametrize("row", ["LS6,north,-1.5", "LS6,95,-1.5", ",53.8,-1.5"])
def test_a_bad_row_changes_nothing(db, tmp_path, row):
    path = write(tmp_path, f"outward_code,latitude,longitude\nYO1,53.9,-1.0\n{row}\n")
    with pytest.raises(CommandError, match="Line 3"):
        call_command("load_postcode_districts", path)
    assert not PostcodeDistrict.objects.exists()


def test_missing_columns_are_refused(db, tmp_path):
    with pytest.raises(CommandError, match="needs the columns"):
        call_command("load_postcode_districts", write(tmp_path, "code,lat\nLS6,53\n"))
