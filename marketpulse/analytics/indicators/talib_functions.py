"""TA-Lib's description of its non-pattern functions (but MAVP): group, inputs,
parameters with default and valid range, outputs, under TA-Lib's own names.

Written by ``python -m tests.talib_functions`` from the installed TA-Lib; a unit test checks it.
"""

from typing import Any

TALIB_VERSION = "0.8.1"
FUNCTIONS: dict[str, Any] = {
    "AC": {
        "group": "Momentum Indicators",
        "display_name": "Accelerator/Decelerator Oscillator",
        "overlay": False,
        "inputs": {"prices": ["high", "low"]},
        "parameters": [
            {"name": "fastperiod", "type": "int", "default": 5, "min": 2, "max": 100000},
            {"name": "slowperiod", "type": "int", "default": 34, "min": 2, "max": 100000},
            {"name": "signalperiod", "type": "int", "default": 5, "min": 2, "max": 100000},
        ],
        "outputs": ["real"],
    },
    "ACCBANDS": {
        "group": "Overlap Studies",
        "display_name": "Acceleration Bands",
        "overlay": True,
        "inputs": {"prices": ["high", "low", "close"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 20, "min": 2, "max": 100000}
        ],
        "outputs": ["upperband", "middleband", "lowerband"],
    },
    "ACOS": {
        "group": "Math Transform",
        "display_name": "Vector Trigonometric ACos",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [],
        "outputs": ["real"],
    },
    "AD": {
        "group": "Volume Indicators",
        "display_name": "Chaikin A/D Line",
        "overlay": False,
        "inputs": {"prices": ["high", "low", "close", "volume"]},
        "parameters": [],
        "outputs": ["real"],
    },
    "ADD": {
        "group": "Math Operators",
        "display_name": "Vector Arithmetic Add",
        "overlay": False,
        "inputs": {"price0": "high", "price1": "low"},
        "parameters": [],
        "outputs": ["real"],
    },
    "ADOSC": {
        "group": "Volume Indicators",
        "display_name": "Chaikin A/D Oscillator",
        "overlay": False,
        "inputs": {"prices": ["high", "low", "close", "volume"]},
        "parameters": [
            {"name": "fastperiod", "type": "int", "default": 3, "min": 2, "max": 100000},
            {"name": "slowperiod", "type": "int", "default": 10, "min": 2, "max": 100000},
        ],
        "outputs": ["real"],
    },
    "ADR": {
        "group": "Volatility Indicators",
        "display_name": "Average Day Range",
        "overlay": False,
        "inputs": {"prices": ["high", "low"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "ADX": {
        "group": "Momentum Indicators",
        "display_name": "Average Directional Movement Index",
        "overlay": False,
        "inputs": {"prices": ["high", "low", "close"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "ADXR": {
        "group": "Momentum Indicators",
        "display_name": "Average Directional Movement Index Rating",
        "overlay": False,
        "inputs": {"prices": ["high", "low", "close"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "AO": {
        "group": "Momentum Indicators",
        "display_name": "Awesome Oscillator",
        "overlay": False,
        "inputs": {"prices": ["high", "low"]},
        "parameters": [
            {"name": "fastperiod", "type": "int", "default": 5, "min": 2, "max": 100000},
            {"name": "slowperiod", "type": "int", "default": 34, "min": 2, "max": 100000},
        ],
        "outputs": ["real"],
    },
    "APO": {
        "group": "Momentum Indicators",
        "display_name": "Absolute Price Oscillator",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "fastperiod", "type": "int", "default": 12, "min": 2, "max": 100000},
            {"name": "slowperiod", "type": "int", "default": 26, "min": 2, "max": 100000},
            {"name": "matype", "type": "matype", "default": 1, "min": 0, "max": 13},
        ],
        "outputs": ["real"],
    },
    "AROON": {
        "group": "Momentum Indicators",
        "display_name": "Aroon",
        "overlay": False,
        "inputs": {"prices": ["high", "low"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 2, "max": 100000}
        ],
        "outputs": ["aroondown", "aroonup"],
    },
    "AROONOSC": {
        "group": "Momentum Indicators",
        "display_name": "Aroon Oscillator",
        "overlay": False,
        "inputs": {"prices": ["high", "low"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "ASIN": {
        "group": "Math Transform",
        "display_name": "Vector Trigonometric ASin",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [],
        "outputs": ["real"],
    },
    "ATAN": {
        "group": "Math Transform",
        "display_name": "Vector Trigonometric ATan",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [],
        "outputs": ["real"],
    },
    "ATR": {
        "group": "Volatility Indicators",
        "display_name": "Average True Range",
        "overlay": False,
        "inputs": {"prices": ["high", "low", "close"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "AVGDEV": {
        "group": "Price Transform",
        "display_name": "Average Deviation",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "AVGPRICE": {
        "group": "Price Transform",
        "display_name": "Average Price",
        "overlay": True,
        "inputs": {"prices": ["open", "high", "low", "close"]},
        "parameters": [],
        "outputs": ["real"],
    },
    "BBANDS": {
        "group": "Overlap Studies",
        "display_name": "Bollinger Bands",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 20, "min": 2, "max": 100000},
            {"name": "nbdevup", "type": "float", "default": 2.0, "min": -3e37, "max": 3e37},
            {"name": "nbdevdn", "type": "float", "default": 2.0, "min": -3e37, "max": 3e37},
            {"name": "matype", "type": "matype", "default": 0, "min": 0, "max": 13},
        ],
        "outputs": ["upperband", "middleband", "lowerband"],
    },
    "BETA": {
        "group": "Statistic Functions",
        "display_name": "Beta",
        "overlay": False,
        "inputs": {"price0": "high", "price1": "low"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 5, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "BOP": {
        "group": "Momentum Indicators",
        "display_name": "Balance Of Power",
        "overlay": False,
        "inputs": {"prices": ["open", "high", "low", "close"]},
        "parameters": [],
        "outputs": ["real"],
    },
    "CCI": {
        "group": "Momentum Indicators",
        "display_name": "Commodity Channel Index",
        "overlay": False,
        "inputs": {"prices": ["high", "low", "close"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "CEIL": {
        "group": "Math Transform",
        "display_name": "Vector Ceil",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [],
        "outputs": ["real"],
    },
    "CMF": {
        "group": "Volume Indicators",
        "display_name": "Chaikin Money Flow",
        "overlay": False,
        "inputs": {"prices": ["high", "low", "close", "volume"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 20, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "CMO": {
        "group": "Momentum Indicators",
        "display_name": "Chande Momentum Oscillator",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "CMOU": {
        "group": "Momentum Indicators",
        "display_name": "Chande Momentum Oscillator (Unsmoothed)",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "COPPOCK": {
        "group": "Momentum Indicators",
        "display_name": "Coppock Curve",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "wmaperiod", "type": "int", "default": 10, "min": 1, "max": 100000},
            {"name": "roc1period", "type": "int", "default": 11, "min": 1, "max": 100000},
            {"name": "roc2period", "type": "int", "default": 14, "min": 1, "max": 100000},
        ],
        "outputs": ["real"],
    },
    "CORREL": {
        "group": "Statistic Functions",
        "display_name": "Pearson's Correlation Coefficient (r)",
        "overlay": False,
        "inputs": {"price0": "high", "price1": "low"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 30, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "COS": {
        "group": "Math Transform",
        "display_name": "Vector Trigonometric Cos",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [],
        "outputs": ["real"],
    },
    "COSH": {
        "group": "Math Transform",
        "display_name": "Vector Trigonometric Cosh",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [],
        "outputs": ["real"],
    },
    "CUMSUM": {
        "group": "Math Operators",
        "display_name": "Cumulative Sum",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [],
        "outputs": ["real"],
    },
    "CVI": {
        "group": "Volatility Indicators",
        "display_name": "Chaikin's Volatility",
        "overlay": False,
        "inputs": {"prices": ["high", "low"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 10, "min": 2, "max": 100000},
            {"name": "rocperiod", "type": "int", "default": 10, "min": 1, "max": 100000},
        ],
        "outputs": ["real"],
    },
    "DEMA": {
        "group": "Overlap Studies",
        "display_name": "Double Exponential Moving Average",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 30, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "DIV": {
        "group": "Math Operators",
        "display_name": "Vector Arithmetic Div",
        "overlay": False,
        "inputs": {"price0": "high", "price1": "low"},
        "parameters": [],
        "outputs": ["real"],
    },
    "DONCHIAN": {
        "group": "Overlap Studies",
        "display_name": "Donchian Channels",
        "overlay": True,
        "inputs": {"prices": ["high", "low"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 20, "min": 2, "max": 100000}
        ],
        "outputs": ["upperband", "middleband", "lowerband"],
    },
    "DPO": {
        "group": "Momentum Indicators",
        "display_name": "Detrended Price Oscillator",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 20, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "DX": {
        "group": "Momentum Indicators",
        "display_name": "Directional Movement Index",
        "overlay": False,
        "inputs": {"prices": ["high", "low", "close"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "EFI": {
        "group": "Volume Indicators",
        "display_name": "Elder's Force Index",
        "overlay": False,
        "inputs": {"prices": ["close", "volume"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 13, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "EMA": {
        "group": "Overlap Studies",
        "display_name": "Exponential Moving Average",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 30, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "ER": {
        "group": "Momentum Indicators",
        "display_name": "Kaufman Efficiency Ratio",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 10, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "ERI": {
        "group": "Momentum Indicators",
        "display_name": "Elder Ray Index (Bull Power / Bear Power)",
        "overlay": False,
        "inputs": {"prices": ["high", "low", "close"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 13, "min": 1, "max": 100000}
        ],
        "outputs": ["bullpower", "bearpower"],
    },
    "EXP": {
        "group": "Math Transform",
        "display_name": "Vector Arithmetic Exp",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [],
        "outputs": ["real"],
    },
    "FLOOR": {
        "group": "Math Transform",
        "display_name": "Vector Floor",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [],
        "outputs": ["real"],
    },
    "FOSC": {
        "group": "Momentum Indicators",
        "display_name": "Forecast Oscillator",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 5, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "FRACTAL": {
        "group": "Momentum Indicators",
        "display_name": "Williams Fractal",
        "overlay": False,
        "inputs": {"prices": ["high", "low"]},
        "parameters": [
            {"name": "leftbars", "type": "int", "default": 2, "min": 1, "max": 100000},
            {"name": "rightbars", "type": "int", "default": 2, "min": 1, "max": 100000},
        ],
        "outputs": ["swinghigh", "swinglow"],
    },
    "HA": {
        "group": "Price Transform",
        "display_name": "Heikin-Ashi Candles",
        "overlay": True,
        "inputs": {"prices": ["open", "high", "low", "close"]},
        "parameters": [],
        "outputs": ["haopen", "hahigh", "halow", "haclose"],
    },
    "HMA": {
        "group": "Overlap Studies",
        "display_name": "Hull Moving Average",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 20, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "HT_DCPERIOD": {
        "group": "Cycle Indicators",
        "display_name": "Hilbert Transform - Dominant Cycle Period",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [],
        "outputs": ["real"],
    },
    "HT_DCPHASE": {
        "group": "Cycle Indicators",
        "display_name": "Hilbert Transform - Dominant Cycle Phase",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [],
        "outputs": ["real"],
    },
    "HT_PHASOR": {
        "group": "Cycle Indicators",
        "display_name": "Hilbert Transform - Phasor Components",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [],
        "outputs": ["inphase", "quadrature"],
    },
    "HT_SINE": {
        "group": "Cycle Indicators",
        "display_name": "Hilbert Transform - SineWave",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [],
        "outputs": ["sine", "leadsine"],
    },
    "HT_TRENDLINE": {
        "group": "Overlap Studies",
        "display_name": "Hilbert Transform - Instantaneous Trendline",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [],
        "outputs": ["real"],
    },
    "HT_TRENDMODE": {
        "group": "Cycle Indicators",
        "display_name": "Hilbert Transform - Trend vs Cycle Mode",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [],
        "outputs": ["integer"],
    },
    "IMI": {
        "group": "Momentum Indicators",
        "display_name": "Intraday Momentum Index",
        "overlay": False,
        "inputs": {"prices": ["open", "close"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "KAMA": {
        "group": "Overlap Studies",
        "display_name": "Kaufman Adaptive Moving Average",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 30, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "KC": {
        "group": "Overlap Studies",
        "display_name": "Keltner Channels",
        "overlay": True,
        "inputs": {"prices": ["high", "low", "close"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 20, "min": 2, "max": 100000},
            {"name": "atrperiod", "type": "int", "default": 10, "min": 1, "max": 100000},
            {"name": "nbdev", "type": "float", "default": 2.0, "min": -3e37, "max": 3e37},
        ],
        "outputs": ["upperband", "middleband", "lowerband"],
    },
    "KDJ": {
        "group": "Momentum Indicators",
        "display_name": "KDJ Stochastic",
        "overlay": False,
        "inputs": {"prices": ["high", "low", "close"]},
        "parameters": [
            {"name": "fastk_period", "type": "int", "default": 9, "min": 1, "max": 100000},
            {"name": "slowk_period", "type": "int", "default": 3, "min": 1, "max": 100000},
            {"name": "slowk_matype", "type": "matype", "default": 13, "min": 0, "max": 13},
            {"name": "slowd_period", "type": "int", "default": 3, "min": 1, "max": 100000},
            {"name": "slowd_matype", "type": "matype", "default": 13, "min": 0, "max": 13},
        ],
        "outputs": ["k", "d", "j"],
    },
    "LINEARREG": {
        "group": "Statistic Functions",
        "display_name": "Linear Regression",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "LINEARREG_ANGLE": {
        "group": "Statistic Functions",
        "display_name": "Linear Regression Angle",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "LINEARREG_INTERCEPT": {
        "group": "Statistic Functions",
        "display_name": "Linear Regression Intercept",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "LINEARREG_SLOPE": {
        "group": "Statistic Functions",
        "display_name": "Linear Regression Slope",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "LN": {
        "group": "Math Transform",
        "display_name": "Vector Log Natural",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [],
        "outputs": ["real"],
    },
    "LOG10": {
        "group": "Math Transform",
        "display_name": "Vector Log10",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [],
        "outputs": ["real"],
    },
    "MA": {
        "group": "Overlap Studies",
        "display_name": "Moving average",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 30, "min": 1, "max": 100000},
            {"name": "matype", "type": "matype", "default": 0, "min": 0, "max": 13},
        ],
        "outputs": ["real"],
    },
    "MACD": {
        "group": "Momentum Indicators",
        "display_name": "Moving Average Convergence/Divergence",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "fastperiod", "type": "int", "default": 12, "min": 2, "max": 100000},
            {"name": "slowperiod", "type": "int", "default": 26, "min": 2, "max": 100000},
            {"name": "signalperiod", "type": "int", "default": 9, "min": 1, "max": 100000},
        ],
        "outputs": ["macd", "macdsignal", "macdhist"],
    },
    "MACDEXT": {
        "group": "Momentum Indicators",
        "display_name": "MACD with controllable MA type",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "fastperiod", "type": "int", "default": 12, "min": 2, "max": 100000},
            {"name": "fastmatype", "type": "matype", "default": 0, "min": 0, "max": 13},
            {"name": "slowperiod", "type": "int", "default": 26, "min": 2, "max": 100000},
            {"name": "slowmatype", "type": "matype", "default": 0, "min": 0, "max": 13},
            {"name": "signalperiod", "type": "int", "default": 9, "min": 1, "max": 100000},
            {"name": "signalmatype", "type": "matype", "default": 0, "min": 0, "max": 13},
        ],
        "outputs": ["macd", "macdsignal", "macdhist"],
    },
    "MACDFIX": {
        "group": "Momentum Indicators",
        "display_name": "Moving Average Convergence/Divergence Fix 12/26",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "signalperiod", "type": "int", "default": 9, "min": 1, "max": 100000}
        ],
        "outputs": ["macd", "macdsignal", "macdhist"],
    },
    "MAMA": {
        "group": "Overlap Studies",
        "display_name": "MESA Adaptive Moving Average",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "fastlimit", "type": "float", "default": 0.5, "min": 0.01, "max": 0.99},
            {"name": "slowlimit", "type": "float", "default": 0.05, "min": 0.01, "max": 0.99},
        ],
        "outputs": ["mama", "fama"],
    },
    "MARKETFI": {
        "group": "Volume Indicators",
        "display_name": "Market Facilitation Index",
        "overlay": False,
        "inputs": {"prices": ["high", "low", "volume"]},
        "parameters": [],
        "outputs": ["real"],
    },
    "MASSI": {
        "group": "Volatility Indicators",
        "display_name": "Mass Index",
        "overlay": False,
        "inputs": {"prices": ["high", "low"]},
        "parameters": [
            {"name": "fastperiod", "type": "int", "default": 9, "min": 2, "max": 100000},
            {"name": "slowperiod", "type": "int", "default": 25, "min": 2, "max": 100000},
        ],
        "outputs": ["real"],
    },
    "MAX": {
        "group": "Math Operators",
        "display_name": "Highest value over a specified period",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 30, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "MAXINDEX": {
        "group": "Math Operators",
        "display_name": "Index of highest value over a specified period",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 30, "min": 2, "max": 100000}
        ],
        "outputs": ["integer"],
    },
    "MEDPRICE": {
        "group": "Price Transform",
        "display_name": "Median Price",
        "overlay": True,
        "inputs": {"prices": ["high", "low"]},
        "parameters": [],
        "outputs": ["real"],
    },
    "MFI": {
        "group": "Momentum Indicators",
        "display_name": "Money Flow Index",
        "overlay": False,
        "inputs": {"prices": ["high", "low", "close", "volume"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "MIDPOINT": {
        "group": "Overlap Studies",
        "display_name": "MidPoint over period",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "MIDPRICE": {
        "group": "Overlap Studies",
        "display_name": "Midpoint Price over period",
        "overlay": True,
        "inputs": {"prices": ["high", "low"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "MIN": {
        "group": "Math Operators",
        "display_name": "Lowest value over a specified period",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 30, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "MININDEX": {
        "group": "Math Operators",
        "display_name": "Index of lowest value over a specified period",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 30, "min": 2, "max": 100000}
        ],
        "outputs": ["integer"],
    },
    "MINMAX": {
        "group": "Math Operators",
        "display_name": "Lowest and highest values over a specified period",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 30, "min": 2, "max": 100000}
        ],
        "outputs": ["min", "max"],
    },
    "MINMAXINDEX": {
        "group": "Math Operators",
        "display_name": "Indexes of lowest and highest values over a specified period",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 30, "min": 2, "max": 100000}
        ],
        "outputs": ["minidx", "maxidx"],
    },
    "MINUS_DI": {
        "group": "Momentum Indicators",
        "display_name": "Minus Directional Indicator",
        "overlay": False,
        "inputs": {"prices": ["high", "low", "close"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "MINUS_DM": {
        "group": "Momentum Indicators",
        "display_name": "Minus Directional Movement",
        "overlay": False,
        "inputs": {"prices": ["high", "low"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "MOM": {
        "group": "Momentum Indicators",
        "display_name": "Momentum",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 10, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "MULT": {
        "group": "Math Operators",
        "display_name": "Vector Arithmetic Mult",
        "overlay": False,
        "inputs": {"price0": "high", "price1": "low"},
        "parameters": [],
        "outputs": ["real"],
    },
    "NATR": {
        "group": "Volatility Indicators",
        "display_name": "Normalized Average True Range",
        "overlay": False,
        "inputs": {"prices": ["high", "low", "close"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "NVI": {
        "group": "Volume Indicators",
        "display_name": "Negative Volume Index",
        "overlay": False,
        "inputs": {"prices": ["close", "volume"]},
        "parameters": [],
        "outputs": ["real"],
    },
    "OBV": {
        "group": "Volume Indicators",
        "display_name": "On Balance Volume",
        "overlay": False,
        "inputs": {"price": "close", "prices": ["volume"]},
        "parameters": [],
        "outputs": ["real"],
    },
    "PERCENTILE": {
        "group": "Statistic Functions",
        "display_name": "Percentile (nearest rank)",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 30, "min": 2, "max": 100000},
            {"name": "percentile", "type": "float", "default": 50.0, "min": 0.0, "max": 100.0},
        ],
        "outputs": ["real"],
    },
    "PERCENTRANK": {
        "group": "Statistic Functions",
        "display_name": "Percent Rank",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 100, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "PLUS_DI": {
        "group": "Momentum Indicators",
        "display_name": "Plus Directional Indicator",
        "overlay": False,
        "inputs": {"prices": ["high", "low", "close"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "PLUS_DM": {
        "group": "Momentum Indicators",
        "display_name": "Plus Directional Movement",
        "overlay": False,
        "inputs": {"prices": ["high", "low"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "PPO": {
        "group": "Momentum Indicators",
        "display_name": "Percentage Price Oscillator",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "fastperiod", "type": "int", "default": 12, "min": 2, "max": 100000},
            {"name": "slowperiod", "type": "int", "default": 26, "min": 2, "max": 100000},
            {"name": "matype", "type": "matype", "default": 1, "min": 0, "max": 13},
        ],
        "outputs": ["real"],
    },
    "PVI": {
        "group": "Volume Indicators",
        "display_name": "Positive Volume Index",
        "overlay": False,
        "inputs": {"prices": ["close", "volume"]},
        "parameters": [],
        "outputs": ["real"],
    },
    "PVO": {
        "group": "Volume Indicators",
        "display_name": "Percentage Volume Oscillator",
        "overlay": False,
        "inputs": {"prices": ["volume"]},
        "parameters": [
            {"name": "fastperiod", "type": "int", "default": 12, "min": 2, "max": 100000},
            {"name": "slowperiod", "type": "int", "default": 26, "min": 2, "max": 100000},
            {"name": "matype", "type": "matype", "default": 1, "min": 0, "max": 13},
        ],
        "outputs": ["real"],
    },
    "PVT": {
        "group": "Volume Indicators",
        "display_name": "Price Volume Trend",
        "overlay": False,
        "inputs": {"prices": ["close", "volume"]},
        "parameters": [],
        "outputs": ["real"],
    },
    "QSTICK": {
        "group": "Momentum Indicators",
        "display_name": "Qstick",
        "overlay": False,
        "inputs": {"prices": ["open", "close"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 10, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "RMA": {
        "group": "Overlap Studies",
        "display_name": "Wilder's Smoothed Moving Average",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 30, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "ROC": {
        "group": "Momentum Indicators",
        "display_name": "Rate of change : ((price/prevPrice)-1)*100",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 10, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "ROCP": {
        "group": "Momentum Indicators",
        "display_name": "Rate of change Percentage: (price-prevPrice)/prevPrice",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 10, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "ROCR": {
        "group": "Momentum Indicators",
        "display_name": "Rate of change ratio: (price/prevPrice)",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 10, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "ROCR100": {
        "group": "Momentum Indicators",
        "display_name": "Rate of change ratio 100 scale: (price/prevPrice)*100",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 10, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "RSI": {
        "group": "Momentum Indicators",
        "display_name": "Relative Strength Index",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "RVI": {
        "group": "Volatility Indicators",
        "display_name": "Relative Volatility Index",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 1, "max": 100000},
            {"name": "stddevperiod", "type": "int", "default": 10, "min": 2, "max": 100000},
        ],
        "outputs": ["real"],
    },
    "RVOL": {
        "group": "Volume Indicators",
        "display_name": "Relative Volume",
        "overlay": False,
        "inputs": {"prices": ["volume"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 20, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "SAR": {
        "group": "Overlap Studies",
        "display_name": "Parabolic SAR",
        "overlay": True,
        "inputs": {"prices": ["high", "low"]},
        "parameters": [
            {"name": "acceleration", "type": "float", "default": 0.02, "min": 0.0, "max": 3e37},
            {"name": "maximum", "type": "float", "default": 0.2, "min": 0.0, "max": 3e37},
        ],
        "outputs": ["real"],
    },
    "SAREXT": {
        "group": "Overlap Studies",
        "display_name": "Parabolic SAR - Extended",
        "overlay": True,
        "inputs": {"prices": ["high", "low"]},
        "parameters": [
            {"name": "startvalue", "type": "float", "default": 0.0, "min": -3e37, "max": 3e37},
            {"name": "offsetonreverse", "type": "float", "default": 0.0, "min": 0.0, "max": 3e37},
            {
                "name": "accelerationinitlong",
                "type": "float",
                "default": 0.02,
                "min": 0.0,
                "max": 3e37,
            },
            {"name": "accelerationlong", "type": "float", "default": 0.02, "min": 0.0, "max": 3e37},
            {
                "name": "accelerationmaxlong",
                "type": "float",
                "default": 0.2,
                "min": 0.0,
                "max": 3e37,
            },
            {
                "name": "accelerationinitshort",
                "type": "float",
                "default": 0.02,
                "min": 0.0,
                "max": 3e37,
            },
            {
                "name": "accelerationshort",
                "type": "float",
                "default": 0.02,
                "min": 0.0,
                "max": 3e37,
            },
            {
                "name": "accelerationmaxshort",
                "type": "float",
                "default": 0.2,
                "min": 0.0,
                "max": 3e37,
            },
        ],
        "outputs": ["real"],
    },
    "SIN": {
        "group": "Math Transform",
        "display_name": "Vector Trigonometric Sin",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [],
        "outputs": ["real"],
    },
    "SINH": {
        "group": "Math Transform",
        "display_name": "Vector Trigonometric Sinh",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [],
        "outputs": ["real"],
    },
    "SMA": {
        "group": "Overlap Studies",
        "display_name": "Simple Moving Average",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 30, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "SMI": {
        "group": "Momentum Indicators",
        "display_name": "Stochastic Momentum Index",
        "overlay": False,
        "inputs": {"prices": ["high", "low", "close"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 13, "min": 2, "max": 100000},
            {"name": "fastperiod", "type": "int", "default": 2, "min": 2, "max": 100000},
            {"name": "slowperiod", "type": "int", "default": 25, "min": 2, "max": 100000},
            {"name": "signalperiod", "type": "int", "default": 9, "min": 2, "max": 100000},
        ],
        "outputs": ["smi", "smisignal"],
    },
    "SQRT": {
        "group": "Math Transform",
        "display_name": "Vector Square Root",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [],
        "outputs": ["real"],
    },
    "STDDEV": {
        "group": "Statistic Functions",
        "display_name": "Standard Deviation",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 5, "min": 2, "max": 100000},
            {"name": "nbdev", "type": "float", "default": 1.0, "min": -3e37, "max": 3e37},
        ],
        "outputs": ["real"],
    },
    "STOCH": {
        "group": "Momentum Indicators",
        "display_name": "Stochastic",
        "overlay": False,
        "inputs": {"prices": ["high", "low", "close"]},
        "parameters": [
            {"name": "fastk_period", "type": "int", "default": 5, "min": 1, "max": 100000},
            {"name": "slowk_period", "type": "int", "default": 3, "min": 1, "max": 100000},
            {"name": "slowk_matype", "type": "matype", "default": 0, "min": 0, "max": 13},
            {"name": "slowd_period", "type": "int", "default": 3, "min": 1, "max": 100000},
            {"name": "slowd_matype", "type": "matype", "default": 0, "min": 0, "max": 13},
        ],
        "outputs": ["slowk", "slowd"],
    },
    "STOCHF": {
        "group": "Momentum Indicators",
        "display_name": "Stochastic Fast",
        "overlay": False,
        "inputs": {"prices": ["high", "low", "close"]},
        "parameters": [
            {"name": "fastk_period", "type": "int", "default": 5, "min": 1, "max": 100000},
            {"name": "fastd_period", "type": "int", "default": 3, "min": 1, "max": 100000},
            {"name": "fastd_matype", "type": "matype", "default": 0, "min": 0, "max": 13},
        ],
        "outputs": ["fastk", "fastd"],
    },
    "STOCHRSI": {
        "group": "Momentum Indicators",
        "display_name": "Stochastic Relative Strength Index",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 2, "max": 100000},
            {"name": "fastk_period", "type": "int", "default": 5, "min": 1, "max": 100000},
            {"name": "fastd_period", "type": "int", "default": 3, "min": 1, "max": 100000},
            {"name": "fastd_matype", "type": "matype", "default": 0, "min": 0, "max": 13},
        ],
        "outputs": ["fastk", "fastd"],
    },
    "SUB": {
        "group": "Math Operators",
        "display_name": "Vector Arithmetic Subtraction",
        "overlay": False,
        "inputs": {"price0": "high", "price1": "low"},
        "parameters": [],
        "outputs": ["real"],
    },
    "SUM": {
        "group": "Math Operators",
        "display_name": "Summation",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 30, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "SUPERTREND": {
        "group": "Overlap Studies",
        "display_name": "SuperTrend",
        "overlay": True,
        "inputs": {"prices": ["high", "low", "close"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 10, "min": 2, "max": 100000},
            {"name": "multiplier", "type": "float", "default": 3.0, "min": 0.0, "max": 3e37},
        ],
        "outputs": ["supertrend", "trend"],
    },
    "T3": {
        "group": "Overlap Studies",
        "display_name": "Triple Exponential Moving Average (T3)",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 5, "min": 1, "max": 100000},
            {"name": "vfactor", "type": "float", "default": 0.7, "min": 0.0, "max": 1.0},
        ],
        "outputs": ["real"],
    },
    "TAN": {
        "group": "Math Transform",
        "display_name": "Vector Trigonometric Tan",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [],
        "outputs": ["real"],
    },
    "TANH": {
        "group": "Math Transform",
        "display_name": "Vector Trigonometric Tanh",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [],
        "outputs": ["real"],
    },
    "TEMA": {
        "group": "Overlap Studies",
        "display_name": "Triple Exponential Moving Average",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 30, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "TRANGE": {
        "group": "Volatility Indicators",
        "display_name": "True Range",
        "overlay": False,
        "inputs": {"prices": ["high", "low", "close"]},
        "parameters": [],
        "outputs": ["real"],
    },
    "TRIMA": {
        "group": "Overlap Studies",
        "display_name": "Triangular Moving Average",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 30, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "TRIX": {
        "group": "Momentum Indicators",
        "display_name": "1-day Rate-Of-Change (ROC) of a Triple Smooth EMA",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 30, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "TSF": {
        "group": "Statistic Functions",
        "display_name": "Time Series Forecast",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "TSI": {
        "group": "Momentum Indicators",
        "display_name": "True Strength Index",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "firstperiod", "type": "int", "default": 25, "min": 2, "max": 100000},
            {"name": "secondperiod", "type": "int", "default": 13, "min": 2, "max": 100000},
        ],
        "outputs": ["real"],
    },
    "TYPPRICE": {
        "group": "Price Transform",
        "display_name": "Typical Price",
        "overlay": True,
        "inputs": {"prices": ["high", "low", "close"]},
        "parameters": [],
        "outputs": ["real"],
    },
    "ULTOSC": {
        "group": "Momentum Indicators",
        "display_name": "Ultimate Oscillator",
        "overlay": False,
        "inputs": {"prices": ["high", "low", "close"]},
        "parameters": [
            {"name": "timeperiod1", "type": "int", "default": 7, "min": 1, "max": 100000},
            {"name": "timeperiod2", "type": "int", "default": 14, "min": 1, "max": 100000},
            {"name": "timeperiod3", "type": "int", "default": 28, "min": 1, "max": 100000},
        ],
        "outputs": ["real"],
    },
    "VAR": {
        "group": "Statistic Functions",
        "display_name": "Variance",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 5, "min": 1, "max": 100000},
            {"name": "nbdev", "type": "float", "default": 1.0, "min": -3e37, "max": 3e37},
        ],
        "outputs": ["real"],
    },
    "VHF": {
        "group": "Momentum Indicators",
        "display_name": "Vertical Horizontal Filter",
        "overlay": False,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 28, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "VORTEX": {
        "group": "Momentum Indicators",
        "display_name": "Vortex Indicator",
        "overlay": False,
        "inputs": {"prices": ["high", "low", "close"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 1, "max": 100000}
        ],
        "outputs": ["plusvi", "minusvi"],
    },
    "VWAP": {
        "group": "Volume Indicators",
        "display_name": "Volume Weighted Average Price",
        "overlay": True,
        "inputs": {"prices": ["high", "low", "close", "volume"]},
        "parameters": [],
        "outputs": ["real"],
    },
    "VWMA": {
        "group": "Overlap Studies",
        "display_name": "Volume Weighted Moving Average",
        "overlay": True,
        "inputs": {"price": "close", "prices": ["volume"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 30, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "WAD": {
        "group": "Momentum Indicators",
        "display_name": "Williams' Accumulation/Distribution",
        "overlay": False,
        "inputs": {"prices": ["high", "low", "close"]},
        "parameters": [],
        "outputs": ["real"],
    },
    "WCLPRICE": {
        "group": "Price Transform",
        "display_name": "Weighted Close Price",
        "overlay": True,
        "inputs": {"prices": ["high", "low", "close"]},
        "parameters": [],
        "outputs": ["real"],
    },
    "WILLR": {
        "group": "Momentum Indicators",
        "display_name": "Williams' %R",
        "overlay": False,
        "inputs": {"prices": ["high", "low", "close"]},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 14, "min": 2, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "WMA": {
        "group": "Overlap Studies",
        "display_name": "Weighted Moving Average",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 30, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
    "ZLEMA": {
        "group": "Overlap Studies",
        "display_name": "Zero-Lag Exponential Moving Average",
        "overlay": True,
        "inputs": {"price": "close"},
        "parameters": [
            {"name": "timeperiod", "type": "int", "default": 30, "min": 1, "max": 100000}
        ],
        "outputs": ["real"],
    },
}
