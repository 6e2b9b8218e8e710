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
    assert pii.mask_id_number("511823194003150011") == "5118**************"
    assert pii.mask_id_number("5118**********0011") == "5118**************"  # an older mask, masked again
    assert pii.mask_id_number("511823400315001") == "5118***********"
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


# --- phone and ID numbers in free text ------------------------------------------------------------------------

FOUND = [
    # mobile numbers, however typed
    ("13812345678", "138********"),
    ("电话138-1234-5678。", "电话138********。"),
    ("138 1234 5678", "138********"),
    ("138.1234.5678", "138********"),
    ("138 - 1234 - 5678", "138********"),
    ("1381234 5678", "138********"),
    ("+86 138 1234 5678", "+86 138********"),
    ("+8613812345678", "+86138********"),
    ("0086 13812345678", "0086 138********"),
    ("（+86）13812345678", "（+86）138********"),
    ("手机１３８１２３４５６７８", "手机１３８********"),
    ("１３８－１２３４－５６７８", "１３８********"),
    ("１３８　１２３４　５６７８", "１３８********"),
    ("联系人张三13812345678，谢谢", "联系人张三138********，谢谢"),
    ("3栋2单元501 13812345678", "3栋2单元501 138********"),
    ("2026-12-07 13812345678", "2026-12-07 138********"),
    # landlines with an area code
    ("0835-1234567", "0835-*******"),
    ("0835 1234567", "0835 *******"),
    ("(0835)1234567", "(0835)*******"),
    ("（０８３５）１２３４５６７", "（０８３５）*******"),
    ("010-12345678", "010-********"),
    ("座机08351234567", "座机0835*******"),
    ("+86 835 1234567", "+86 835 *******"),
    ("0835-1234567-801", "0835-*******-801"),
    # ID numbers: 18 characters (X), 15-digit old ones, with spaces, dashes, full width
    ("511823194003150012", "5118**************"),
    ("身份证511823 19400315 0012号", "身份证5118**************号"),
    ("5118 2319 4003 1500 12", "5118**************"),
    ("511823-19400315-001X", "5118**************"),
    ("51182319400315001x", "5118**************"),
    ("５１１８２３１９４００３１５００１２", "5118**************"),
    ("511823400315001", "5118***********"),
    ("511823 400315 001", "5118***********"),
    ("身份证511823194003150012，电话13800001111", "身份证5118**************，电话138********"),
]

LEFT_ALONE = [
    "2026-12-07", "2026.12.07", "2026/12/07", "20261207", "2026年12月7日 14:30", "2025.12.01-2026.01.07",
    "12000元", "1,234.50元", "¥3500.00", "0.5元", "价格13.5 12.0 11.5 10.0",
    "3栋2单元501", "1-2-501", "5号楼3单元1502室", "邮编625300",
    "诉求编号20261123001234", "第20261123001234号诉求", "20261123001234 20261123001235",
    "13812345678901",  # 14 digits: not a phone
    "110105194902300026",  # 30 February: not a birth date, not an ID number
    "123456789012345678901", "6222 0212 3456 7890 123", "",
]


@pytest.mark.parametrize("text, masked", FOUND)
def test_phone_and_id_numbers_in_free_text_are_masked(text, masked):
    assert pii.mask_free_text(text) == masked


@pytest.mark.parametrize("text", LEFT_ALONE)
def test_ordinary_numbers_in_free_text_are_left_alone(text):
    assert pii.mask_free_text(text) == text


def test_free_text_masks_leave_enough_unknown():
    """A mobile number in public text keeps three digits: with the city known (the appeal's place), the hidden
    eight are still at least 10,000 numbers; an ID number keeps four characters, like the stored mask."""
    masked = pii.mask_free_text("13812345678 511823194003150012")
    assert masked.count("*") == 8 + 14
