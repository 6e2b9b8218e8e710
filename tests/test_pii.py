"""ID numbers, phones, encryption, blind index and masks."""

import datetime as dt

import pytest

from gongzhi.core import pii

from .factories import make_id


def test_valid_id_gives_birth_date_and_gender():
    number = make_id("19400315", male=True)
    info = pii.parse_id_number(number)
    assert info.birth_date == dt.date(1940, 3, 15)
    assert info.gender == "M"
    assert pii.parse_id_number(make_id("19900101", male=False)).gender == "F"


def test_known_public_sample_checksum():
    # The GB 11643 worked example: 11010519491231002X.
    assert pii.id_check_char("11010519491231002") == "X"
    assert pii.parse_id_number("11010519491231002x").number == "11010519491231002X"


@pytest.mark.parametrize(
    "value, words",
    [
        ("12345", "17 位数字"),
        ("990105194912310021", "行政区划代码"),
        ("110105194902300026", "不是有效日期"),
        ("110105194912310021", "校验码错误"),
        ("110105209912310025", "超出合理范围"),
    ],
)
def test_bad_ids_are_refused_with_reason(value, words):
    with pytest.raises(pii.PIIError, match=words):
        pii.parse_id_number(value)


def test_masks():
    assert pii.mask_id_number("511823194003150011") == "5118**********0011"
    assert pii.mask_phone("13800001111") == "138****1111"
    assert pii.mask_name("欧阳娜娜") == "欧***"


def test_encrypt_roundtrip_is_randomised(settings):
    a, b = pii.encrypt("511823194003150011"), pii.encrypt("511823194003150011")
    assert a != b and "5118" not in a
    assert pii.decrypt(a) == "511823194003150011"


def test_blind_index_is_keyed_and_normalised(settings):
    h1 = pii.id_number_hash("11010519491231002x")
    assert h1 == pii.id_number_hash(" 11010519491231002X ")
    settings.PII_HASH_KEY = "another-key"
    assert pii.id_number_hash("11010519491231002X") != h1


def test_phone_normalisation():
    assert pii.normalize_phone("+86 138 0000 1111") == "13800001111"
    assert pii.normalize_phone("0835-4221234") == "0835-4221234"
    with pytest.raises(pii.PIIError):
        pii.normalize_phone("12345")
